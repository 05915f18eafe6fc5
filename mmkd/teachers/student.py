"""The student as its own teacher: deeper outputs teach shallower ones."""
from typing import Any, Dict, List, Optional

import torch
from torch import Tensor, nn

from mmkd.engine.distiller import Distiller
from mmkd.registry import TEACHERS
from mmkd.utils.modules import detach_tensors

from .base import TeacherSource
from .checks import check_record_paths


@TEACHERS.register_module()
class StudentTeacher(TeacherSource):
    """Deep-to-shallow self-distillation: the teacher side is the student's own outputs, detached.

    Entries name two student paths (``student='backbone', teacher='neck'``);
    no second model runs. Zhang et al., "Be Your Own Teacher", ICCV 2019.
    """

    def build(self, runner, student: nn.Module, distiller: Distiller, device: torch.device) -> None:
        self.distiller = distiller
        self.model = student
        check_record_paths(distiller, student, student)

    def describe(self) -> str:
        return 'self-distillation: deeper outputs of the student, detached, teach shallower ones'

    def student_record_paths(self) -> List[str]:
        return sorted({*self.distiller.record_paths('student'), *self.distiller.record_paths('teacher')})

    def record(self, inputs: Tensor, data_samples: Optional[list],
               student_records: Dict[str, Any]) -> Dict[str, Any]:
        return {path: detach_tensors(student_records[path]) for path in self.distiller.record_paths('teacher')}

    def state_dict(self) -> Dict[str, Any]:
        return dict(super().state_dict(), teacher=dict(scheme='self'))
