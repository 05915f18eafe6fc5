from .distillation_hook import DistillationHook
from .teacher_assignment_hook import TeacherAssignmentHook

__all__ = ['DistillationHook', 'TeacherAssignmentHook']
