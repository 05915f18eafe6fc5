"""Distillation schemes beyond offline KD, on the same hook and registry.

Each scheme hook is :class:`mmkd.hooks.DistillationHook` with a teacher
source from :mod:`mmkd.teachers` (online peer, the student itself, a moving
average, an ensemble); adversarial distillation adds a discriminator step.
Teacher-assistant chains live here too; the relation and adversarial losses
are in :mod:`mmkd.losses` (re-exported here).
"""
from mmkd.losses.adversarial import AdversarialLoss, FeatureDiscriminator
from mmkd.losses.relation import InstanceRelationLoss, PixelRelationLoss, SimilarityPreservingLoss
from mmkd.teachers import (
                           ConfidenceTeacherWeights,
                           EXP3TeacherSelector,
                           FixedTeacherWeights,
                           LearnedTeacherWeights,
                           SnapshotModel,
                           TeacherSelector,
                           TeacherWeighting,
                           UCBTeacherSelector,
                           improvement_reward,
)

from .adversarial import AdversarialDistillationHook
from .multi_teacher import MultiTeacherDistillationHook
from .online import OnlineDistillationHook, export_peer_checkpoint
from .self_distillation import MeanTeacherDistillationHook, SelfDistillationHook

__all__ = [
    'AdversarialDistillationHook', 'AdversarialLoss', 'FeatureDiscriminator', 'EXP3TeacherSelector',
    'TeacherSelector', 'UCBTeacherSelector', 'improvement_reward', 'MultiTeacherDistillationHook',
    'OnlineDistillationHook', 'export_peer_checkpoint', 'InstanceRelationLoss', 'PixelRelationLoss',
    'SimilarityPreservingLoss', 'MeanTeacherDistillationHook', 'SelfDistillationHook', 'SnapshotModel',
    'ConfidenceTeacherWeights', 'FixedTeacherWeights', 'LearnedTeacherWeights', 'TeacherWeighting'
]
