"""Helpers shared by the tests: configs pointed at test data, runs, distillation contexts."""
from pathlib import Path
from typing import Any, Dict, Optional, Sequence, Tuple, Union

import torch
from mmdet.structures import DetDataSample
from mmengine.config import Config
from mmengine.runner import Runner
from mmengine.structures import InstanceData
from torch import nn

from mmkd.context import DistillContext
from mmkd.engine.standalone import distillation_hook_cfg as distill_hook_cfg  # noqa: F401 (the one lookup)

REPO = Path(__file__).resolve().parents[1]
CONFIGS = REPO / 'tests' / 'configs'


def point_to_data(cfg: Config, data_root: str) -> Config:
    """Make every dataset and evaluator of ``cfg`` read from ``data_root``."""
    data_root = str(data_root).rstrip('/') + '/'
    for name in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        dataset = cfg[name].dataset
        while 'dataset' in dataset:  # dataset wrappers (MultiImageMixDataset)
            dataset = dataset.dataset
        dataset.data_root = data_root
    for name in ('val_evaluator', 'test_evaluator'):
        cfg[name].ann_file = data_root + 'annotations/val.json'
    return cfg


def load_config(name: str, work_dir: Path, data_root: str, **options: Any) -> Config:
    """A test config with its data, work_dir and ``--cfg-options``-style overrides."""
    cfg = Config.fromfile(str(CONFIGS / name))
    point_to_data(cfg, data_root)
    cfg.work_dir = str(work_dir)
    cfg.merge_from_dict(options)
    return cfg


# Sections of _base_/tiny_synth_data.py that replace an mmdet COCO config's.
RUN_SECTIONS = ('train_dataloader', 'val_dataloader', 'test_dataloader', 'val_evaluator', 'test_evaluator',
                'train_cfg', 'val_cfg', 'test_cfg', 'optim_wrapper', 'param_scheduler', 'default_hooks',
                'randomness')


def with_tiny_run(cfg: Config, work_dir: Path, data_root: str, **options: Any) -> Config:
    """``cfg`` (a model from one of mmdet's COCO configs) with the data, schedule and
    runtime sections of ``_base_/tiny_synth_data.py`` (mmengine refuses both as bases
    of one file, since their keys overlap), pointed at ``data_root``."""
    tiny = Config.fromfile(str(CONFIGS / '_base_' / 'tiny_synth_data.py'))
    for section in RUN_SECTIONS:
        cfg[section] = tiny[section]
    point_to_data(cfg, data_root)
    cfg.work_dir = str(work_dir)
    cfg.merge_from_dict(options)
    return cfg


def load_mmdet_config(name: str, work_dir: Path, data_root: str, **options: Any) -> Config:
    """Like :func:`load_config` for a test config that inherits one of mmdet's
    COCO configs (``_base_ = 'mmdet::...'``): see :func:`with_tiny_run`."""
    return with_tiny_run(Config.fromfile(str(CONFIGS / name)), work_dir, data_root, **options)


def stock_config(mmdet_config: str, work_dir: Path, data_root: str, model: Dict[str, Any],
                 **options: Any) -> Config:
    """A stock mmdet config (``'mmdet::...'``) with ``model`` merged into its model
    (e.g. :data:`TINY_RESNET`, three classes), at test size: :func:`with_tiny_run`."""
    from mmengine.hub import get_config
    cfg = get_config(mmdet_config)
    cfg.merge_from_dict(dict(model=model))
    return with_tiny_run(cfg, work_dir, data_root, **options)


def train(cfg: Config) -> Runner:
    runner = Runner.from_cfg(cfg)
    runner.train()
    return runner


def find_distill_hook(runner: Runner):
    from mmkd.hooks import DistillationHook
    return next(hook for hook in runner.hooks if isinstance(hook, DistillationHook))


def untrained_checkpoint(cfg: Config, path: Path) -> str:
    """Initialised weights of ``cfg``'s model saved as a checkpoint: the engine's
    mechanics do not depend on a teacher's accuracy."""
    from mmkd.engine.teacher import build_detector
    model = build_detector(cfg)
    model.init_weights()
    torch.save({'state_dict': model.state_dict(), 'meta': {}}, path)
    return str(path)


def load(path: Path) -> Dict[str, Any]:
    return torch.load(str(path), map_location='cpu')


# A thin ResNet-18 (no pretrained weights) in place of a stock config's ResNet-50.
TINY_RESNET = dict(depth=18, base_channels=16, init_cfg=None, frozen_stages=-1, norm_eval=False,
                   norm_cfg=dict(type='BN', requires_grad=True))
TINY_RESNET_CHANNELS = [16, 32, 64, 128]


def gt_sample(boxes: Any, labels: Optional[Any] = None) -> DetDataSample:
    """A ``DetDataSample`` whose ``gt_instances`` are ``boxes`` (``x1, y1, x2, y2``;
    a list, a tensor or empty) with ``labels`` (class 0 for every box when ``None``)."""
    bboxes = torch.as_tensor(boxes, dtype=torch.float32).reshape(-1, 4)
    if labels is None:
        labels = torch.zeros(len(bboxes), dtype=torch.long)
    sample = DetDataSample()
    sample.gt_instances = InstanceData(bboxes=bboxes, labels=torch.as_tensor(labels, dtype=torch.long))
    return sample


def distill_context(boxes: Sequence[Any], size: Union[int, Tuple[int, int]] = 32,
                    student: Optional[nn.Module] = None, teacher: Optional[nn.Module] = None,
                    student_records: Optional[dict] = None, teacher_records: Optional[dict] = None, *,
                    labels: Optional[Sequence[Any]] = None) -> DistillContext:
    """A context for a batch of ``len(boxes)`` zero images of ``size`` (``S`` or ``(H, W)``)
    with ``boxes[b]`` (and ``labels[b]``, see :func:`gt_sample`) as image ``b``'s ground truth."""
    height, width = (size, size) if isinstance(size, int) else size
    samples = [gt_sample(image_boxes, None if labels is None else labels[index])
               for index, image_boxes in enumerate(boxes)]
    return DistillContext(torch.zeros(len(samples), 3, height, width), samples, student, teacher,
                          student_records or {}, teacher_records or {})
