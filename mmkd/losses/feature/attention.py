"""Attention-guided and non-local distillation (Zhang & Ma, ICLR 2021)."""
from typing import List, Optional, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mmkd.context import DistillContext
from mmkd.masks import activities, attention_from_activity
from mmkd.registry import MODELS

from ..base import DistillLoss, checked_channels, claim_channels, student_teacher_blocks
from .utils import align_levels


@MODELS.register_module()
class AttentionGuidedLoss(DistillLoss):
    """Attention-guided distillation: attention transfer plus attention-masked imitation.

    With ``G^S``, ``G^C`` the mean absolute activations over channels and over
    locations (:mod:`mmkd.masks.attention`) and the masks
    ``M^S = H W softmax((G^S(S) + G^S(T)) / T)``,
    ``M^C = C softmax((G^C(S) + G^C(T)) / T)`` (teacher and student together,
    computed without gradient, as :class:`mmkd.SpatialAttentionMask` and
    :class:`mmkd.ChannelAttentionMask` with ``source='student_teacher'``), per
    level and image::

        L_AT = ||G^S(S) - G^S(T)||_2 + ||G^C(S) - G^C(T)||_2
        L_AM = (sum_{c,h,w} (T - S)^2 M^S_hw M^C_c)^(1/2)
        L    = loss_weight * sum_l mean_b (alpha L_AT + beta L_AM)

    Zhang & Ma, "Improve Object Detection with Feature-based Knowledge
    Distillation: Towards Accurate and Efficient Detectors", ICLR 2021 (eq.
    1-5). Defaults: ``alpha=4e-4, beta=2e-2`` (one-stage detectors; ``7e-5,
    4e-3`` for two-stage ones) and ``T=0.5``, the values public
    re-implementations use (see ``docs/feature_kd.md``).

    Args:
        alpha_at: weight of the attention-transfer term.
        beta_am: weight of the attention-masked imitation term.
        temperature: softmax temperature of the masks.
        loss_weight: multiplier of the loss.
    """

    def __init__(self, alpha_at: float = 4e-4, beta_am: float = 2e-2, temperature: float = 0.5,
                 loss_weight: float = 1.0) -> None:
        super().__init__(loss_weight)
        self.alpha_at = alpha_at
        self.beta_am = beta_am
        self.temperature = temperature

    def forward(self, student: List[Tensor], teacher: List[Tensor], ctx: DistillContext) -> Tensor:
        student, teacher = align_levels(student, teacher, type(self).__name__)
        total = student[0].new_zeros(())
        for s, t in zip(student, teacher):
            (spatial_s, channel_s), (spatial_t, channel_t) = activities(s), activities(t)
            transfer = _image_norm(spatial_s - spatial_t) + _image_norm(channel_s - channel_t)
            with torch.no_grad():
                mask_s = attention_from_activity(spatial_s + spatial_t, self.temperature)
                mask_c = attention_from_activity(channel_s + channel_t, self.temperature)
            masked = _image_norm((t - s).mul_(mask_s.sqrt()).mul_(mask_c.sqrt()))
            total = total + (self.alpha_at * transfer + self.beta_am * masked).mean()
        return self.loss_weight * total


class NonLocalBlock(nn.Module):
    """Embedded-Gaussian non-local block: ``z = x + W_z softmax(theta(x)^T phi(x) / sqrt(d)) g(x)``.

    Wang et al., "Non-local Neural Networks", CVPR 2018; ``theta``, ``phi``,
    ``g`` are 1x1 convolutions to ``d = C / reduction`` channels and ``W_z``
    (1x1, back to ``C``) starts at zero, so the block starts as the identity.
    ``sub_sample`` max-pools ``phi`` and ``g`` by 2 (the paper's
    sub-sampling trick, 4x fewer pairs). The attention runs through
    ``scaled_dot_product_attention``.
    """

    def __init__(self, in_channels: int, reduction: int = 2, sub_sample: bool = False) -> None:
        super().__init__()
        inner = max(in_channels // reduction, 1)
        self.theta = nn.Conv2d(in_channels, inner, 1)
        self.phi = nn.Conv2d(in_channels, inner, 1)
        self.g = nn.Conv2d(in_channels, inner, 1)
        self.pool = nn.MaxPool2d(2, ceil_mode=True) if sub_sample else nn.Identity()
        self.out = nn.Conv2d(inner, in_channels, 1)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)

    def forward(self, x: Tensor) -> Tensor:
        batch, _, height, width = x.shape
        query = self.theta(x).flatten(2).transpose(1, 2)[:, None]
        key, value = (self.pool(conv(x)).flatten(2).transpose(1, 2)[:, None] for conv in (self.phi, self.g))
        context = F.scaled_dot_product_attention(query, key, value)
        return x + self.out(context[:, 0].transpose(1, 2).reshape(batch, -1, height, width))


@MODELS.register_module()
class NonLocalDistillLoss(DistillLoss):
    """Non-local distillation: match the relations captured by non-local blocks.

    Per level, learnable non-local blocks ``R_S`` (student) and ``R_T``
    (teacher) and::

        L = loss_weight * gamma * sum_l mean_b ||R_S(S_l) - R_T(T_l)||_2

    Zhang & Ma, ICLR 2021 (eq. 6; ``gamma = 4e-4`` for one-stage and
    ``7e-5`` for two-stage detectors). The blocks are parameters of this loss
    and train with the student. Their cost grows with ``(H W)^2``: on a
    stride-8 level of a 640 px input prefer ``sub_sample=True`` or distil
    the coarser levels only (see ``docs/feature_kd.md``).

    Args:
        in_channels: teacher channels of each level; ``None`` (default) takes
            them from the hook's probe.
        gamma: weight of the non-local term.
        reduction: channel reduction inside the blocks.
        sub_sample: max-pool keys and values by 2 in the blocks.
        loss_weight: multiplier of the loss.
    """

    def __init__(self, in_channels: Optional[Sequence[int]] = None, gamma: float = 4e-4, reduction: int = 2,
                 sub_sample: bool = False, loss_weight: float = 1.0) -> None:
        super().__init__(loss_weight)
        self.in_channels: Optional[List[int]] = None
        self.gamma = gamma
        self.reduction = reduction
        self.sub_sample = sub_sample
        if in_channels is not None:
            self.build_for_levels(list(in_channels))

    def build_for_levels(self, channels: List[int]) -> None:
        """One student and one teacher non-local block per level."""
        if claim_channels(self, channels):
            self.student_blocks, self.teacher_blocks = student_teacher_blocks(
                lambda c: NonLocalBlock(c, self.reduction, self.sub_sample), self.in_channels)

    def forward(self, student: List[Tensor], teacher: List[Tensor], ctx: DistillContext) -> Tensor:
        student, teacher = align_levels(student, teacher, type(self).__name__)
        checked_channels(self, self.in_channels, [t.shape[1] for t in teacher])
        total = student[0].new_zeros(())
        for s, t, block_s, block_t in zip(student, teacher, self.student_blocks, self.teacher_blocks):
            total = total + _image_norm(block_s(s) - block_t(t)).mean()
        return self.loss_weight * self.gamma * total


def _image_norm(x: Tensor) -> Tensor:
    """``(B, ...)`` -> ``(B,)`` Euclidean norm of each image's entries."""
    return x.flatten(1).norm(dim=1)
