"""Self-distillation: the student teaches itself, across depth or across time."""
from typing import Any, Dict, List, Optional, Sequence, Tuple

import torch
from mmengine.model import BaseAveragedModel
from mmengine.runner.checkpoint import weights_to_cpu
from torch import Tensor, nn

from mmkd.engine.distiller import build_mmkd_module
from mmkd.engine.teacher import freeze
from mmkd.hooks import DistillationHook
from mmkd.registry import HOOKS, MODELS
from .utils import detach_tensors, unwrap


@HOOKS.register_module()
class SelfDistillationHook(DistillationHook):
    """Deep-to-shallow self-distillation inside one detector.

    A deeper part of the student (a later stage, the neck, a coarser level)
    teaches a shallower one through the usual adapters; the teacher side is
    the student's own output, detached, so no second model runs::

        L = L_det(S) + sum_e D_e(r_e(S_shallow), sg(S_deep))

    Entries name two student paths, e.g. ``student='backbone',
    teacher='neck'`` (backbone levels imitate the neck's levels of the same
    stride) or ``student='neck[0]', teacher='neck[1]'`` with
    ``adapter=dict(type='mmkd.ConvAdapter', resize=True)``. Costs one set of
    adapters and the losses; no extra forward.

    Zhang et al., "Be Your Own Teacher: Improve the Performance of
    Convolutional Neural Networks via Self Distillation", ICCV 2019.

    Args:
        distill: entries whose ``student`` and ``teacher`` are both paths of
            the student detector.
        **kwargs: the other arguments of :class:`DistillationHook`.
    """

    def __init__(self, distill: Sequence[dict], **kwargs) -> None:
        super().__init__(teacher=None, distill=distill, **kwargs)

    @staticmethod
    def _checked_teacher_cfg(teacher: Optional[dict]) -> Optional[dict]:
        return None

    def build_teacher(self, runner, student: nn.Module, device: torch.device) -> Tuple[nn.Module, dict]:
        return student, {}

    def describe_teacher(self) -> str:
        return 'self-distillation: deeper outputs of the student, detached, teach shallower ones'

    def student_record_paths(self) -> List[str]:
        return sorted({*self.distiller.record_paths('student'), *self.distiller.record_paths('teacher')})

    def teacher_record_paths(self) -> List[str]:
        return []

    def teacher_records(self, inputs: Tensor, data_samples: Optional[list],
                        student_records: Dict[str, Any]) -> Dict[str, Any]:
        return {path: detach_tensors(student_records[path]) for path in self.distiller.record_paths('teacher')}

    def checkpoint_state(self) -> Dict[str, Any]:
        return dict(distiller=weights_to_cpu(self.distiller.state_dict()), teacher=dict(scheme='self'))


@MODELS.register_module()
class SnapshotModel(BaseAveragedModel):
    """A copy of the model refreshed every ``interval`` updates (no averaging).

    ``theta_T <- theta_S`` at every ``interval``-th call of
    ``update_parameters``: the teacher is the student's latest snapshot.

    Yang et al., "Snapshot Distillation: Teacher-Student Optimization in One
    Generation", CVPR 2019.
    """

    def avg_func(self, averaged_param: Tensor, source_param: Tensor, steps: int) -> None:
        averaged_param.copy_(source_param)


@HOOKS.register_module()
class MeanTeacherDistillationHook(DistillationHook):
    """The student's own moving average (or snapshot) is its teacher.

    The teacher is an :class:`mmengine.model.BaseAveragedModel` of the
    student, kept frozen, in eval mode and outside ``runner.model``, updated
    after every optimizer iteration::

        theta_T <- (1 - m) * theta_T + m * theta_S     (ExponentialMovingAverage)
        theta_T <- theta_S every k iterations          (mmkd.SnapshotModel)

    It starts as a copy of the student once its weights are initialised or
    loaded; its state (weights and update count) is saved under
    ``checkpoint['mmkd']['averaged']`` and restored on resume. Costs one extra
    model (no gradients, no optimizer state) and one teacher forward per step.

    Tarvainen & Valpola, "Mean teachers are better role models", NeurIPS
    2017; Yang et al., "Snapshot Distillation", CVPR 2019.

    Args:
        distill: entries pairing student paths with the same (or other)
            paths of the averaged teacher.
        averaging: config of the averaged model, built with ``model=`` the
            student: ``dict(type='ExponentialMovingAverage', momentum=1e-3,
            update_buffers=True)`` (mmengine), ``'ExpMomentumEMA'`` (mmdet) or
            ``dict(type='mmkd.SnapshotModel', interval=k)``.
        **kwargs: the other arguments of :class:`DistillationHook`.
    """

    def __init__(self, distill: Sequence[dict], averaging: Optional[dict] = None, **kwargs) -> None:
        super().__init__(teacher=None, distill=distill, **kwargs)
        self.averaging_cfg = averaging or dict(type='ExponentialMovingAverage', momentum=1e-3,
                                               update_buffers=True)
        self.averaged: Optional[BaseAveragedModel] = None

    @staticmethod
    def _checked_teacher_cfg(teacher: Optional[dict]) -> Optional[dict]:
        return None

    def build_teacher(self, runner, student: nn.Module, device: torch.device) -> Tuple[nn.Module, dict]:
        self.averaged = build_mmkd_module(dict(self.averaging_cfg, model=student))
        if not isinstance(self.averaged, BaseAveragedModel):
            raise TypeError(f'averaging type "{self.averaging_cfg["type"]}" is not an '
                            'mmengine.model.BaseAveragedModel (ExponentialMovingAverage, ExpMomentumEMA, '
                            'mmkd.SnapshotModel)')
        return freeze(self.averaged.module), {}

    def describe_teacher(self) -> str:
        return f'mean teacher: {self.averaging_cfg} of the student (frozen copy, updated every iteration)'

    def before_train(self, runner) -> None:
        super().before_train(runner)
        if int(self.averaged.steps) == 0:  # a fresh run: start from the initialised/loaded student
            self.averaged.update_parameters(unwrap(runner.model))

    def after_train_iter(self, runner, batch_idx: int, data_batch: Any = None, outputs: Any = None) -> None:
        self.averaged.update_parameters(unwrap(runner.model))

    def checkpoint_state(self) -> Dict[str, Any]:
        return dict(distiller=weights_to_cpu(self.distiller.state_dict()),
                    averaged=weights_to_cpu(self.averaged.state_dict()),
                    teacher=dict(scheme='mean_teacher', averaging=dict(self.averaging_cfg)))

    def load_checkpoint_state(self, state: Dict[str, Any]) -> None:
        super().load_checkpoint_state(state)
        self.averaged.load_state_dict(state['averaged'])
