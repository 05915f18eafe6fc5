"""Drive a distillation hook without MMEngine's Runner.

For benchmarks, config checks and hand-written training loops: builds the
hook of a config, runs its set-up (teacher, recorders, adapters, optimizer
groups) against a student and an optim wrapper, after which every
``student(inputs, data_samples, mode='loss')`` call returns the distillation
losses next to the detection losses, as it does in a Runner.
"""
from types import SimpleNamespace
from typing import Any, List, Optional, Sequence, Tuple

import torch
from mmengine.config import Config
from mmengine.logging import MessageHub, MMLogger
from mmengine.optim import OptimWrapper
from mmengine.structures import InstanceData
from torch import Tensor, nn

from ..registry import HOOKS


def is_distillation_hook_cfg(hook_cfg: dict) -> bool:
    """Whether a ``custom_hooks`` entry builds an ``mmkd.DistillationHook`` (or a scheme's subclass of it)."""
    from ..hooks import DistillationHook
    hook_type = hook_cfg.get('type')
    hook_class = HOOKS.get(hook_type) if isinstance(hook_type, str) else hook_type
    return isinstance(hook_class, type) and issubclass(hook_class, DistillationHook)


def distillation_hook_cfg(cfg: Config) -> dict:
    """The distillation hook entry of ``cfg.custom_hooks`` itself (edit it to change the config)."""
    hooks = [hook for hook in cfg.get('custom_hooks', []) if is_distillation_hook_cfg(hook)]
    if len(hooks) != 1:
        raise KeyError(f'custom_hooks holds {len(hooks)} distillation hooks; expected exactly one '
                       "dict(type='mmkd.DistillationHook', ...) (or a scheme's hook)")
    return hooks[0]


def attach_hook(hook_cfg: dict, student: nn.Module, optim_wrapper: OptimWrapper, optim_cfg: dict,
                classes: Sequence[str] = (), **runner_attributes: Any):
    """Build the hook of ``hook_cfg`` and run its ``before_run``/``before_train`` on ``student``.

    The hook sees a stand-in runner at the first iteration that distils (the schedule's
    ``start_iter``: a snapshot teaches from its first snapshot on); ``runner_attributes`` add to it
    or replace its fields (e.g. ``val_dataloader=[data_batch]`` for a bandit's held-out batch).
    """
    runner = SimpleNamespace(
        model=student, cfg=Config(dict(optim_wrapper=optim_cfg)), optim_wrapper=optim_wrapper,
        param_schedulers=[], logger=MMLogger.get_current_instance(), message_hub=MessageHub.get_current_instance(),
        iter=(hook_cfg.get('schedule') or {}).get('start_iter', 0), epoch=0, val_loop=None,
        train_dataloader=SimpleNamespace(dataset=SimpleNamespace(metainfo=dict(classes=tuple(classes)))))
    vars(runner).update(runner_attributes)
    hook = HOOKS.build(hook_cfg)
    hook.before_run(runner)
    hook.before_train(runner)
    return hook


def training_step(student: nn.Module, optim_wrapper: OptimWrapper, inputs: Tensor, data_samples: list,
                  hook: Optional[Any] = None) -> None:
    """One training iteration as a Runner runs it: the loss forward (with the distillation losses of an
    attached hook), backward and optimizer step, then the hook's ``after_train_iter`` (EMA update,
    discriminator step, bandit reward)."""
    with optim_wrapper.optim_context(student):
        losses = student(inputs, data_samples, mode='loss')
    loss, _ = student.parse_losses(losses)
    optim_wrapper.update_params(loss)
    if hook is not None:
        hook.after_train_iter(hook.runner, batch_idx=0)


def random_checkpoint(config: str, path: str, images: Optional[Tensor] = None) -> str:
    """Write a randomly initialised detector of ``config`` (a path or ``mmdet::`` path) to ``path``
    as a checkpoint, for a teacher whose speed, not accuracy, matters.

    ``images``: the inputs the teacher will see, to set its batch-norm statistics from
    (:func:`calibrate_batch_norm`). With the initial ones (mean 0, variance 1) the frozen neck of a
    random YOLOX-L reaches 4.7e7 on 320 px noise, past float16's 65504 under AMP.
    """
    from .teacher import build_detector, load_detector_config
    model = build_detector(load_detector_config(config, 'teacher'))
    if images is not None:
        calibrate_batch_norm(model, images.cpu())
    torch.save({'state_dict': model.state_dict(), 'meta': {}}, path)
    return path


def calibrate_batch_norm(model: nn.Module, images: Tensor) -> None:
    """Set the running statistics of every batch norm that ``model.extract_feat(images)`` reaches to the
    mean and (biased) variance of its input there, so that in eval mode the backbone and neck compute on
    ``images`` what they compute in train mode: features of unit scale. Leaves ``model`` in eval mode."""
    def set_statistics(norm: nn.modules.batchnorm._BatchNorm, args: tuple) -> None:
        features = args[0]
        dims = [0, *range(2, features.dim())]
        norm.running_mean.copy_(features.mean(dims))
        norm.running_var.copy_(features.var(dims, unbiased=False))

    handles = [module.register_forward_pre_hook(set_statistics) for module in model.modules()
               if isinstance(module, nn.modules.batchnorm._BatchNorm)]
    model.eval()
    with torch.no_grad():
        model.extract_feat(images)
    for handle in handles:
        handle.remove()


def random_detection_batch(batch: int, size: int, num_classes: int, device: str = 'cpu',
                           boxes_per_image: int = 20, seed: int = 0,
                           pixel_max: float = 255.0) -> Tuple[Tensor, List]:
    """Random ``(inputs, data_samples)`` as a data preprocessor hands them to a detector,
    with pixels uniform in ``[0, pixel_max]``."""
    from mmdet.structures import DetDataSample
    generator = torch.Generator().manual_seed(seed)
    xy = torch.rand(batch, boxes_per_image, 2, generator=generator) * size * 0.8
    wh = torch.rand(batch, boxes_per_image, 2, generator=generator) * size * 0.2 + 8
    boxes = torch.cat([xy, (xy + wh).clamp(max=size)], -1)
    labels = torch.randint(0, num_classes, (batch, boxes_per_image), generator=generator)
    shape = (size, size)
    samples = []
    for image_boxes, image_labels in zip(boxes, labels):
        sample = DetDataSample(metainfo=dict(img_shape=shape, batch_input_shape=shape, pad_shape=shape,
                                             scale_factor=(1.0, 1.0)))
        sample.gt_instances = InstanceData(bboxes=image_boxes.to(device), labels=image_labels.to(device))
        samples.append(sample)
    inputs = torch.rand(batch, 3, size, size, generator=generator).mul(pixel_max).to(device)
    return inputs, samples
