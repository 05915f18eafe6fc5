"""The default teacher: a trained detector, frozen (offline KD)."""
from typing import Any, Dict, Optional, Sequence

import torch
from torch import Tensor, nn

from mmkd.engine.distiller import Distiller
from mmkd.engine.teacher import build_frozen_detector
from mmkd.registry import TEACHERS
from mmkd.utils.modules import find_module

from .base import RecordedDetector, TeacherSource
from .checks import check_class_sets, check_record_paths


@TEACHERS.register_module()
class FrozenTeacher(TeacherSource):
    """A detector built from its config and checkpoint, frozen, outside ``runner.model``.

    What ``teacher=dict(config=..., checkpoint=...)`` builds. The teacher runs
    without gradients on the very batch the student sees.

    Args:
        config: the teacher's mmdet config (a file, or ``mmdet::...``).
        checkpoint: its trained weights.
        name: its name in logs.
        config_key: the config key it came from, for error messages.
        extra_records: further modules to record (e.g. for a teacher weighting).
    """

    def __init__(self, config: str, checkpoint: Optional[str] = None, name: str = 'teacher',
                 config_key: str = 'teacher', extra_records: Sequence[str] = ()) -> None:
        self.config = config
        self.checkpoint = checkpoint
        self.name = name
        self.config_key = config_key
        self.extra_records = tuple(extra_records)

    def build(self, runner, student: nn.Module, distiller: Distiller, device: torch.device) -> None:
        self.distiller = distiller
        self.model, _, meta = build_frozen_detector(self.config, self.checkpoint, self.config_key, device)
        check_record_paths(distiller, student, self.model)
        check_class_sets(distiller, student, self.model, meta, runner)
        for path in self.extra_records:
            find_module(self.model, path, f'{self.config_key} module')
        recorder_key = 'distill[].teacher' if self.config_key == 'teacher' else f'{self.config_key}: distill[].teacher'
        self.recorded = RecordedDetector(
            self.model, [*distiller.record_paths('teacher'), *self.extra_records], recorder_key, student)

    def describe(self) -> str:
        return (f'{self.name} {self.config} from {self.checkpoint} '
                f'(frozen, {sum(p.numel() for p in self.model.parameters()) / 1e6:.2f} M params)')

    def record(self, inputs: Tensor, data_samples: Optional[list],
               student_records: Dict[str, Any]) -> Dict[str, Any]:
        return self.recorded.records(inputs, data_samples, student_records)

    def evaluated_models(self) -> Dict[str, nn.Module]:
        return {self.name: self.model}

    def state_dict(self) -> Dict[str, Any]:
        return dict(super().state_dict(), teacher=dict(config=self.config, checkpoint=self.checkpoint))

    def after_train(self, runner) -> None:
        self.recorded.recorder.detach()
