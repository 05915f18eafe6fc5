"""Spatial and channel attention of feature maps, as functions and as masks.

For ``F`` of shape ``(B, C, H, W)`` and temperature ``T``::

    G^S(F) = 1/C  sum_c |F_c|           A^S(F) = H W softmax_{hw}(G^S(F) / T)
    G^C(F) = 1/HW sum_hw |F_hw|         A^C(F) = C   softmax_c (G^C(F) / T)

Zhang & Ma, "Improve Object Detection with Feature-based Knowledge
Distillation: Towards Accurate and Efficient Detectors", ICLR 2021, and Yang et
al., "Focal and Global Knowledge Distillation for Detectors", CVPR 2022 (FGD,
``T = 0.5``).
"""
from typing import List, Tuple

import torch.nn.functional as F
from torch import Tensor

from mmkd.context import DistillContext
from mmkd.registry import MODELS

from .base import BaseMask

SOURCES = ('teacher', 'student_teacher')


def activities(features: Tensor) -> Tuple[Tensor, Tensor]:
    """``(G^S, G^C)`` from one pass of ``|F|``: ``(B, 1, H, W)`` and ``(B, C, 1, 1)``."""
    magnitude = features.abs()
    return magnitude.mean(dim=1, keepdim=True), magnitude.mean(dim=(2, 3), keepdim=True)


def spatial_activity(features: Tensor) -> Tensor:
    """``G^S``: ``(B, C, H, W)`` -> ``(B, 1, H, W)`` mean absolute value over channels."""
    return features.abs().mean(dim=1, keepdim=True)


def channel_activity(features: Tensor) -> Tensor:
    """``G^C``: ``(B, C, H, W)`` -> ``(B, C, 1, 1)`` mean absolute value over locations."""
    return features.abs().mean(dim=(2, 3), keepdim=True)


def attention_from_activity(activity: Tensor, temperature: float) -> Tensor:
    """``A = n softmax(G / T)`` over the ``n`` non-batch entries of ``G`` (shape kept).

    ``A^S`` (from ``G^S``) sums to ``H W`` per image, ``A^C`` (from ``G^C``)
    to ``C``.
    """
    flat = activity.flatten(1)
    return (flat.shape[1] * F.softmax(flat / temperature, dim=1)).view_as(activity)


class _AttentionMask(BaseMask):
    """Attention of the teacher (FGD) or of student and teacher together (Zhang & Ma).

    ``source='teacher'``: ``A(T)``. ``source='student_teacher'``:
    ``n softmax((G(S) + G(T)) / T)``, the attention mask of Zhang & Ma.
    """

    def __init__(self, temperature: float = 0.5, source: str = 'teacher') -> None:
        super().__init__()
        if temperature <= 0:
            raise ValueError(f'temperature must be positive, got {temperature}')
        if source not in SOURCES:
            raise ValueError(f'source must be one of {SOURCES}, got "{source}"')
        self.temperature = temperature
        self.source = source

    def compute(self, student: List[Tensor], teacher: List[Tensor],
                ctx: DistillContext) -> List[Tensor]:
        if self.source == 'teacher':
            activities = [self.activity(t) for t in teacher]
        else:
            activities = [self.activity(s) + self.activity(t) for s, t in zip(student, teacher)]
        return [attention_from_activity(g, self.temperature) for g in activities]

    @staticmethod
    def activity(features: Tensor) -> Tensor:
        raise NotImplementedError


@MODELS.register_module()
class SpatialAttentionMask(_AttentionMask):
    """``A^S = H W softmax(G^S / T)``, ``(B, 1, H, W)`` per level (see module doc).

    Args:
        temperature: ``T`` (0.5 in FGD).
        source: ``'teacher'`` or ``'student_teacher'``.
    """

    @staticmethod
    def activity(features: Tensor) -> Tensor:
        return spatial_activity(features)


@MODELS.register_module()
class ChannelAttentionMask(_AttentionMask):
    """``A^C = C softmax(G^C / T)``, ``(B, C, 1, 1)`` per level (see module doc).

    Args:
        temperature: ``T`` (0.5 in FGD).
        source: ``'teacher'`` or ``'student_teacher'``.
    """

    @staticmethod
    def activity(features: Tensor) -> Tensor:
        return channel_activity(features)
