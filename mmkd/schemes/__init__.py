"""Distillation schemes beyond offline KD, on the same hook and registry.

Online (mutual) learning, self-distillation (deep-to-shallow and mean
teacher), multi-teacher with weighting and bandit selection, teacher
assistant chains, relation-based losses and adversarial distillation.
"""
from .adversarial import AdversarialDistillationHook, AdversarialLoss, FeatureDiscriminator
from .bandits import EXP3TeacherSelector, TeacherSelector, UCBTeacherSelector, improvement_reward
from .multi_teacher import MultiTeacherDistillationHook
from .online import OnlineDistillationHook, export_peer_checkpoint
from .relation import InstanceRelationLoss, PixelRelationLoss, SimilarityPreservingLoss
from .self_distillation import MeanTeacherDistillationHook, SelfDistillationHook, SnapshotModel
from .teacher_weighting import (ConfidenceTeacherWeights, FixedTeacherWeights, LearnedTeacherWeights,
                                TeacherWeighting)

__all__ = [
    'AdversarialDistillationHook', 'AdversarialLoss', 'FeatureDiscriminator', 'EXP3TeacherSelector',
    'TeacherSelector', 'UCBTeacherSelector', 'improvement_reward', 'MultiTeacherDistillationHook',
    'OnlineDistillationHook', 'export_peer_checkpoint', 'InstanceRelationLoss', 'PixelRelationLoss',
    'SimilarityPreservingLoss', 'MeanTeacherDistillationHook', 'SelfDistillationHook', 'SnapshotModel',
    'ConfidenceTeacherWeights', 'FixedTeacherWeights', 'LearnedTeacherWeights', 'TeacherWeighting'
]
