"""A moving average (or snapshot) of the student as its teacher."""
from typing import Any, Dict, Optional

import torch
from mmengine.model import BaseAveragedModel
from mmengine.runner.checkpoint import weights_to_cpu
from torch import Tensor, nn

from mmkd.engine.distiller import Distiller
from mmkd.engine.teacher import freeze
from mmkd.registry import MODELS, TEACHERS, build_mmkd_module
from mmkd.utils.modules import batch_statistics, unwrap

from .base import RecordedDetector, TeacherSource
from .checks import check_record_paths


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


@TEACHERS.register_module()
class AveragedTeacher(TeacherSource):
    """The student's own moving average (mean teacher) or snapshot, frozen.

    An :class:`mmengine.model.BaseAveragedModel` of the student, in eval mode
    and outside ``runner.model``, copied from the student once its weights
    are loaded and updated after every optimizer step::

        theta_T <- (1 - m) * theta_T + m * theta_S     (ExponentialMovingAverage)
        theta_T <- theta_S every k iterations          (mmkd.SnapshotModel)

    Its state is saved under ``checkpoint['mmkd']['averaged']``.

    Args:
        averaging: config of the averaged model, built with ``model=`` the
            student: ``dict(type='ExponentialMovingAverage', momentum=1e-3,
            update_buffers=True)`` (mmengine), ``'ExpMomentumEMA'`` (mmdet) or
            ``dict(type='mmkd.SnapshotModel', interval=k)``.
        bn_statistics: what the teacher's batch norms normalise with:
            ``'running'``, its stored running statistics (eval mode), or
            ``'batch'``, the statistics of the batch it teaches on, as the
            student in training does (running statistics left untouched). A
            snapshot's stored statistics trail its weights early in training
            (BN momentum 0.03 in YOLOX): after 40 iterations, the NEON
            student's exact copy in eval mode differs from the training-mode
            student by a neck MSE of 8.4e4 (``benchmarks/snapshot_bn_gap.py``).
    """

    def __init__(self, averaging: Optional[dict] = None, bn_statistics: str = 'running') -> None:
        if bn_statistics not in ('running', 'batch'):
            raise ValueError(f'bn_statistics must be "running" or "batch", got "{bn_statistics}"')
        self.averaging_cfg = averaging or dict(type='ExponentialMovingAverage', momentum=1e-3, update_buffers=True)
        self.bn_statistics = bn_statistics
        self.averaged: Optional[BaseAveragedModel] = None

    def build(self, runner, student: nn.Module, distiller: Distiller, device: torch.device) -> None:
        self.distiller = distiller
        self.averaged = build_mmkd_module(dict(self.averaging_cfg, model=student))
        if not isinstance(self.averaged, BaseAveragedModel):
            raise TypeError(f'averaging type "{self.averaging_cfg["type"]}" is not an '
                            'mmengine.model.BaseAveragedModel (ExponentialMovingAverage, ExpMomentumEMA, '
                            'mmkd.SnapshotModel)')
        self.model = freeze(self.averaged.module)
        check_record_paths(distiller, student, self.model)
        self.recorded = RecordedDetector(self.model, distiller.record_paths('teacher'), 'distill[].teacher', student)

    def describe(self) -> str:
        return (f'mean teacher: {self.averaging_cfg} of the student (frozen copy, updated every iteration; '
                f'{self.bn_statistics} BN statistics)')

    def record(self, inputs: Tensor, data_samples: Optional[list],
               student_records: Dict[str, Any]) -> Dict[str, Any]:
        if self.bn_statistics == 'running':
            return self.recorded.records(inputs, data_samples, student_records)
        with batch_statistics(self.model):
            return self.recorded.records(inputs, data_samples, student_records)

    def evaluated_models(self) -> Dict[str, nn.Module]:
        return {'mean teacher': self.model}

    def before_train(self, runner) -> None:
        if int(self.averaged.steps) == 0:  # a fresh run: start from the initialised/loaded student
            self.averaged.update_parameters(unwrap(runner.model))

    def after_train_iter(self, runner) -> None:
        self.averaged.update_parameters(unwrap(runner.model))

    def after_train(self, runner) -> None:
        self.recorded.recorder.detach()

    def state_dict(self) -> Dict[str, Any]:
        return dict(super().state_dict(), averaged=weights_to_cpu(self.averaged.state_dict()),
                    teacher=dict(scheme='mean_teacher', averaging=dict(self.averaging_cfg)))

    def load_state_dict(self, state: Dict[str, Any]) -> None:
        super().load_state_dict(state)
        self.averaged.load_state_dict(state['averaged'])
