"""Pixel-pair (affinity) relation distillation."""
from typing import List

import torch.nn.functional as F
from torch import Tensor

from mmkd.context import DistillContext
from mmkd.registry import MODELS

from ..base import DistillLoss


@MODELS.register_module()
class PixelRelationLoss(DistillLoss):
    """Pair-wise distillation: cosine similarities between the cells of each image.

    Each level is average-pooled to a ``grid`` of cells ``f_i`` (channels
    L2-normalised); ``a_ij = f_i . f_j`` and::

        L = loss_weight * sum_l mean_{b, i, j} (a^S_ij - a^T_ij)^2

    Liu et al., "Structured Knowledge Distillation for Semantic
    Segmentation", CVPR 2019 (pair-wise distillation).

    Args:
        grid: ``(h, w)`` (or one int) cells per level; the cost is
            ``(h * w)^2`` per image and level.
        loss_weight: multiplier of the loss.
    """

    def __init__(self, grid: int = 8, loss_weight: float = 1.0) -> None:
        super().__init__(loss_weight)
        self.grid = grid

    def forward(self, student: List[Tensor], teacher: List[Tensor], ctx: DistillContext) -> Tensor:
        return self.loss_weight * sum((self._affinity(s) - self._affinity(t)).pow(2).mean()
                                      for s, t in zip(student, teacher))

    def _affinity(self, feat: Tensor) -> Tensor:
        cells = F.normalize(F.adaptive_avg_pool2d(feat.float(), self.grid).flatten(2), dim=1)  # (B, C, N)
        return cells.transpose(1, 2) @ cells
