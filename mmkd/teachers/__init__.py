"""Teacher sources: where the teacher side of distillation comes from.

One :class:`TeacherSource` per file: a frozen checkpoint (the default), a
training peer (online / mutual learning), a moving average or snapshot of the
student, the student itself (deep-to-shallow), and an ensemble of sources
with a weighting and a selection policy.
"""
from .averaged import AveragedTeacher, SnapshotModel
from .bandits import EXP3TeacherSelector, TeacherSelector, UCBTeacherSelector, improvement_reward
from .base import DistillStep, RecordedDetector, TeacherSource, build_teacher_source
from .ensemble import TeacherEnsemble
from .frozen import FrozenTeacher
from .peer import PeerTeacher
from .student import StudentTeacher
from .weighting import ConfidenceTeacherWeights, FixedTeacherWeights, LearnedTeacherWeights, TeacherWeighting

__all__ = [
    'TeacherSource', 'DistillStep', 'RecordedDetector', 'build_teacher_source', 'FrozenTeacher', 'PeerTeacher',
    'AveragedTeacher', 'SnapshotModel', 'StudentTeacher', 'TeacherEnsemble', 'TeacherWeighting',
    'FixedTeacherWeights', 'LearnedTeacherWeights', 'ConfidenceTeacherWeights', 'TeacherSelector',
    'EXP3TeacherSelector', 'UCBTeacherSelector', 'improvement_reward'
]
