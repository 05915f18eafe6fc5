from .distillation_hook import DistillationHook
from .random_state_hook import RandomStateHook
from .teacher_assignment_hook import TeacherAssignmentHook
from .weight_selection_hook import WeightSelectionHook

__all__ = ['DistillationHook', 'RandomStateHook', 'TeacherAssignmentHook', 'WeightSelectionHook']
