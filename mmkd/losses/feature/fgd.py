"""Focal and global distillation (FGD)."""
from typing import List, Optional, Sequence, Tuple

import torch
from torch import Tensor, nn

from mmkd.context import DistillContext
from mmkd.masks import ScaleAwareMask, activities, attention_from_activity
from mmkd.registry import MODELS

from ..base import DistillLoss, checked_channels, claim_channels, student_teacher_blocks
from .masked import masked_squared_error
from .utils import align_levels


@MODELS.register_module()
class FGDLoss(DistillLoss):
    """FGD: focal (foreground / background, attention-weighted) and global distillation.

    With binary box mask ``M``, scale mask ``S`` (:class:`mmkd.ScaleAwareMask`)
    and the teacher's spatial / channel attention ``A^S(T)``, ``A^C(T)``
    (:mod:`mmkd.masks.attention`, temperature ``T``), per level::

        L_fea = alpha sum M S A^S A^C (T - S)^2 + beta sum (1 - M) S A^S A^C (T - S)^2
        L_at  = gamma (|A^S(T) - A^S(S)|_1 + |A^C(T) - A^C(S)|_1)
        L_glb = lambda sum (R_T(T) - R_S(S))^2

    each summed over the image and averaged over the batch, then summed over
    levels and times ``loss_weight``. ``R(F) = F + W_v2(ReLU(LN(W_v1(sum_j
    softmax(W_k F)_j F_j))))`` is a GcBlock (:class:`GlobalContextBlock`, GCNet's
    context block with ratio 0.5), one learnable block per level for the
    student and one for the teacher; they are parameters of this loss and train
    with the student.

    Yang et al., "Focal and Global Knowledge Distillation for Detectors", CVPR
    2022 (eq. 1-10). Defaults are the official YOLOX config
    (``fgd_yoloxl_distill_yoloxm_coco.py``): ``alpha=2e-3, beta=1e-3,
    gamma=1e-3, lambda=1e-5, T=0.5``; the official loss's own defaults are
    ``1e-3, 5e-4, 1e-3, 5e-6``.

    Args:
        in_channels: teacher channels of each level (sizes the GcBlocks);
            ``None`` (default) takes them from the hook's probe.
        alpha_fg: foreground weight ``alpha``.
        beta_bg: background weight ``beta``.
        gamma_at: attention-imitation weight ``gamma``.
        lambda_global: global-relation weight ``lambda`` (0 drops the GcBlocks).
        temperature: attention temperature ``T``.
        cells: which cells a box weights: ``'overlap'`` (the paper's ``M``,
            the cells the box overlaps) or ``'fgd_official'`` (the official
            code's one more column and row; see :class:`mmkd.ScaleAwareMask`).
        loss_weight: multiplier of the whole loss.
    """

    def __init__(self, in_channels: Optional[Sequence[int]] = None, alpha_fg: float = 2e-3, beta_bg: float = 1e-3,
                 gamma_at: float = 1e-3, lambda_global: float = 1e-5, temperature: float = 0.5,
                 cells: str = 'overlap', loss_weight: float = 1.0) -> None:
        super().__init__(loss_weight)
        self.in_channels: Optional[List[int]] = None
        self.gamma_at = gamma_at
        self.lambda_global = lambda_global
        self.temperature = temperature
        self.scale_mask = ScaleAwareMask(fg_weight=alpha_fg, bg_weight=beta_bg, cells=cells)
        if in_channels is not None:
            self.build_for_levels(list(in_channels))

    def build_for_levels(self, channels: List[int]) -> None:
        """One student and one teacher GcBlock per level (when ``lambda > 0``)."""
        if claim_channels(self, channels) and self.lambda_global > 0:
            self.student_context, self.teacher_context = student_teacher_blocks(GlobalContextBlock, self.in_channels)

    def forward(self, student: List[Tensor], teacher: List[Tensor], ctx: DistillContext) -> Tensor:
        student, teacher = align_levels(student, teacher, type(self).__name__)
        checked_channels(self, self.in_channels, [t.shape[1] for t in teacher])
        with torch.no_grad():
            teacher_attention = [self._attention(t) for t in teacher]
        scale = self.scale_mask(student, teacher, ctx)
        weights = [(w, spatial, channel) for w, (spatial, channel) in zip(scale, teacher_attention)]
        loss = masked_squared_error(student, teacher, weights, 'batch')
        if self.gamma_at > 0:
            student_attention = [self._attention(s) for s in student]
            loss = loss + self.gamma_at * _attention_loss(student_attention, teacher_attention)
        if self.lambda_global > 0:
            loss = loss + self.lambda_global * self._global_loss(student, teacher)
        return self.loss_weight * loss

    def _attention(self, features: Tensor) -> Tuple[Tensor, Tensor]:
        """``(A^S, A^C)`` of one level."""
        return tuple(attention_from_activity(g, self.temperature) for g in activities(features))

    def _global_loss(self, student: List[Tensor], teacher: List[Tensor]) -> Tensor:
        """``sum_l ||R_T(T) - R_S(S)||^2 / B`` with ``R(x) = x + delta(x)``, ``delta`` per channel.

        ``sum (d + delta)^2 = sum d^2 + 2 sum_c delta_c sum_hw d + H W sum delta^2`` for
        ``d = T - S``: only per-channel reductions of ``d``, no relation maps.
        """
        total = student[0].new_zeros(())
        for s, t, block_s, block_t in zip(student, teacher, self.student_context, self.teacher_context):
            difference = (t - s).flatten(2)                                # (B, C, HW)
            delta = (block_t.context_term(t) - block_s.context_term(s)).flatten(1)  # (B, C)
            squares = difference.square().sum(2)
            expanded = squares + 2 * delta * difference.sum(2) + difference.shape[2] * delta.square()
            total = total + expanded.sum() / s.shape[0]
        return total


def _attention_loss(student: List[Tuple[Tensor, Tensor]], teacher: List[Tuple[Tensor, Tensor]]) -> Tensor:
    """``sum_l (|A^S_T - A^S_S|_1 + |A^C_T - A^C_S|_1) / B``."""
    total = student[0][0].new_zeros(())
    for (spatial_s, channel_s), (spatial_t, channel_t) in zip(student, teacher):
        difference = (spatial_t - spatial_s).abs().sum() + (channel_t - channel_s).abs().sum()
        total = total + difference / spatial_s.shape[0]
    return total


class GlobalContextBlock(nn.Module):
    """GCNet's global context block, ``R(x) = x + delta(x)`` with
    ``delta(x) = W_v2 ReLU(LN(W_v1 sum_j softmax_j(W_k x) x_j))`` per channel.

    Cao et al., "GCNet: Non-local Networks Meet Squeeze-Excitation Networks and
    Beyond", ICCV-W 2019; FGD's relation module with bottleneck ratio 0.5. The
    last convolution starts at zero (GCNet's initialisation), so ``R`` starts
    as the identity.
    """

    def __init__(self, channels: int, ratio: float = 0.5) -> None:
        super().__init__()
        planes = max(int(channels * ratio), 1)
        self.key = nn.Conv2d(channels, 1, kernel_size=1)
        self.transform = nn.Sequential(
            nn.Conv2d(channels, planes, kernel_size=1), nn.LayerNorm([planes, 1, 1]),
            nn.ReLU(inplace=True), nn.Conv2d(planes, channels, kernel_size=1))
        nn.init.kaiming_normal_(self.key.weight, mode='fan_in')
        nn.init.zeros_(self.key.bias)
        nn.init.zeros_(self.transform[-1].weight)
        nn.init.zeros_(self.transform[-1].bias)

    def context_term(self, x: Tensor) -> Tensor:
        """``delta(x)``: ``(B, C, H, W)`` -> ``(B, C, 1, 1)``."""
        weights = self.key(x).flatten(2).softmax(dim=2)               # (B, 1, HW)
        context = torch.matmul(x.flatten(2), weights.transpose(1, 2))  # (B, C, 1) attention pooling
        return self.transform(context[..., None])

    def forward(self, x: Tensor) -> Tensor:
        return x + self.context_term(x)
