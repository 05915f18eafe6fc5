from .distillation_hook import DistillationHook
from .teacher_assignment_hook import TeacherAssignmentHook
from .weight_selection_hook import WeightSelectionHook

__all__ = ['DistillationHook', 'TeacherAssignmentHook', 'WeightSelectionHook']
