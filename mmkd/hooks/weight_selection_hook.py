"""Weight selection: the student starts from a uniformly chosen subset of the teacher's weights."""
from fractions import Fraction
from typing import Dict, Optional, Set

import torch
from mmengine.hooks import Hook
from torch import Tensor, nn
from torch.nn.modules.conv import _ConvNd

from mmkd.engine.teacher import read_checkpoint, state_dict_of
from mmkd.hooks.distillation_hook import is_training_run
from mmkd.registry import HOOKS
from mmkd.utils.modules import unwrap

_CONFIG_KEY = 'WeightSelectionHook'


def select_weights(teacher: Dict[str, Tensor], student: Dict[str, Tensor]) -> Dict[str, Tensor]:
    r"""The student's state dict cut out of the teacher's by uniform element selection.

    Every student tensor of shape :math:`(s_1, \dots, s_n)` takes the teacher's
    tensor under the same key, of shape :math:`(t_1, \dots, t_n)` with
    :math:`t_i \ge s_i`, at the indices :math:`\lfloor j\,t_i / s_i \rfloor`,
    :math:`j = 0, \dots, s_i - 1`, of each dimension (:func:`uniform_indices`):
    every :math:`k`-th element where :math:`t_i = k s_i`, and where the widths
    are :math:`p/q` apart in lowest terms, the same :math:`q` of every
    :math:`p` consecutive elements (3 of every 4 for a student at 3/4 of the
    teacher's width). The same indices on a layer's output channels and on
    the next layer's input channels keep the selection consistent along the
    network, also across channel concatenations (CSP blocks, SPP) whose parts
    are multiples of :math:`p` channels in the teacher each.

    Raises:
        ValueError: listing the keys the teacher lacks, and those whose
            student shape is larger than the teacher's in some dimension.
    """
    missing = [key for key in student if key not in teacher]
    mismatched = [f'{key} {tuple(teacher[key].shape)} vs {tuple(value.shape)}' for key, value in student.items()
                  if key in teacher and not _fits_in(teacher[key].shape, value.shape)]
    if missing or mismatched:
        found = [f'{name}: {", ".join(keys[:3])}{" ..." if len(keys) > 3 else ""}'
                 for name, keys in (('missing in the teacher', missing), ('larger than the teacher', mismatched))
                 if keys]
        raise ValueError('; '.join(found))
    return {key: _select(teacher[key], value.shape).to(value).contiguous() for key, value in student.items()}


def uniform_indices(teacher_size: int, student_size: int) -> Tensor:
    """The ``student_size`` evenly spaced indices out of ``teacher_size``: ``floor(j * teacher_size /
    student_size)`` (integer arithmetic, exact), starting at 0."""
    return torch.arange(student_size) * teacher_size // student_size


def _select(weight: Tensor, shape: torch.Size) -> Tensor:
    for dim, (big, small) in enumerate(zip(weight.shape, shape)):
        if big != small:
            weight = weight.index_select(dim, uniform_indices(big, small).to(weight.device))
    return weight


def input_weight_keys(model: nn.Module) -> Set[str]:
    """State-dict keys of the weights whose dimension 1 is the layer's input: convolutions and linear layers
    (a transposed convolution keeps its outputs there and is left out)."""
    return {'.'.join(filter(None, (name, 'weight'))) for name, module in model.named_modules()
            if isinstance(module, nn.Linear) or (isinstance(module, _ConvNd) and not module.transposed)}


def scale_to_teacher_fan_in(selected: Dict[str, Tensor], teacher: Dict[str, Tensor], keys: Set[str],
                            power: float) -> Dict[str, Tensor]:
    r"""Selected layer weights multiplied by a power of the ratio of the teacher's inputs to the student's.

    A selected layer sums over :math:`1/k` of its teacher's inputs (:math:`k`
    the ratio of the teacher's width to the student's on dimension 1, 4/3
    for a student at 3/4 of the width; 1 for a depthwise
    convolution). Each weight under ``keys`` (:func:`input_weight_keys`)
    becomes :math:`k^p\,W_s`:

    * :math:`p = 0`: the paper's selection as it is (Xu et al. do not rescale).
    * :math:`p = 1/2`: each output keeps the teacher's variance where the
      inputs are uncorrelated; the fan-in rule of He et al. (ICCV 2015), whose
      initial weights have a standard deviation :math:`\propto 1/\sqrt{n_{in}}`.
    * :math:`p = 1`: each output keeps the teacher's value where neighbouring
      inputs are alike.

    Under a batch norm in training mode the forward pass is the same for any
    :math:`p`, but a batch-normalised weight's effective learning rate falls
    as :math:`k^{-2p}`: the selected features change more slowly. A layer
    without a norm (a prediction layer) outputs :math:`k^p` times more.
    """
    return {key: value * (teacher[key].shape[1] / value.shape[1]) ** power if key in keys else value
            for key, value in selected.items()}


def _fits_in(teacher_shape, student_shape) -> bool:
    return len(teacher_shape) == len(student_shape) and all(
        0 < small <= big for big, small in zip(teacher_shape, student_shape))


@HOOKS.register_module()
class WeightSelectionHook(Hook):
    """Start a training run from weights selected out of a larger trained teacher.

    Weight selection (Z. Xu et al., "Initializing Models with Larger Ones",
    ICLR 2024): a student of the teacher's architecture at a fraction of its
    width (same module paths; half the width, or YOLOX-tiny's 3/4 of
    YOLOX-s's) starts from the teacher's weights at
    evenly spaced indices of every dimension (:func:`select_weights`; the
    paper's uniform selection) instead of a random initialisation. Batch
    norms keep the selected affine weights and running statistics; the latter
    follow the student's batches during training. Nothing changes at test time
    and the checkpoint stays a plain mmdet checkpoint. It composes with
    :class:`DistillationHook` and :class:`TeacherAssignmentHook`.

    The teacher's checkpoint is read and checked against the student in
    ``before_run`` (no teacher is built); the weights are set in
    ``before_train``, after MMEngine's initialisation, on a fresh run only: a
    resumed run keeps its checkpoint's weights. Setting ``load_from`` as well
    is refused, since both choose the initial weights.

    Args:
        checkpoint: the teacher's checkpoint (a plain mmdet one, e.g. the
            ``teacher.pth`` of ``tools/publish_model.py``).
        fan_in_power: :math:`p` of :func:`scale_to_teacher_fan_in`: each
            selected convolution and linear weight is multiplied by the ratio
            of the teacher's inputs to the student's to this power. Default
            0: the paper's selection as it is; on NEON p = 1/2, the held-out
            choice, did not beat it (docs/results.md).
    """
    priority = 'ABOVE_NORMAL'  # checks the checkpoint before DistillationHook builds its teacher

    def __init__(self, checkpoint: str, fan_in_power: float = 0.0) -> None:
        if not isinstance(checkpoint, str):
            raise TypeError(f'{_CONFIG_KEY}.checkpoint must be the path of the teacher\'s checkpoint, '
                            f'got {type(checkpoint).__name__}')
        if isinstance(fan_in_power, bool) or not isinstance(fan_in_power, (int, float)) or fan_in_power < 0:
            raise ValueError(f'{_CONFIG_KEY}.fan_in_power must be a number >= 0 (0: no scaling), got {fan_in_power!r}')
        self.checkpoint = checkpoint
        self.fan_in_power = float(fan_in_power)
        self.selected: Optional[Dict[str, Tensor]] = None
        self.loaded_checkpoint = False

    def before_run(self, runner) -> None:
        if not is_training_run(runner):
            return
        if runner._load_from and not runner._resume:
            raise ValueError(f'{_CONFIG_KEY} and load_from="{runner._load_from}" both set the student\'s initial '
                             f'weights: drop load_from or the {_CONFIG_KEY}')
        model = unwrap(runner.model)
        student = model.state_dict()
        teacher = state_dict_of(read_checkpoint(self.checkpoint, _CONFIG_KEY))
        try:
            self.selected = select_weights(teacher, student)
        except ValueError as error:
            raise ValueError(f'{_CONFIG_KEY}.checkpoint="{self.checkpoint}" cannot initialise the student by weight '
                             f'selection ({error}): the teacher must be the student\'s architecture at the same '
                             'or larger widths') from None
        if self.fan_in_power:
            self.selected = scale_to_teacher_fan_in(self.selected, teacher, input_weight_keys(model), self.fan_in_power)
        ratios = ', '.join(map(str, sorted({Fraction(big, small) for key, value in student.items()
                                            for big, small in zip(teacher[key].shape, value.shape)})))
        scaling = f', weights times (fan-in ratio)^{self.fan_in_power:g}' if self.fan_in_power else ''
        runner.logger.info(f'mmkd: {_CONFIG_KEY}: the student starts from {len(self.selected)} tensors of '
                           f'{self.checkpoint} (uniform selection, width ratios {ratios}{scaling})')

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        self.loaded_checkpoint = True

    def before_train(self, runner) -> None:
        if self.selected is None or self.loaded_checkpoint:
            return
        unwrap(runner.model).load_state_dict(self.selected, strict=True)
        self.selected = None

