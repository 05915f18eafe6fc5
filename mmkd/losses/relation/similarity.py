"""Similarity-preserving distillation (image-pair relations)."""
from typing import List

import torch.nn.functional as F
from torch import Tensor

from mmkd.context import DistillContext
from mmkd.registry import MODELS

from ..base import DistillLoss


@MODELS.register_module()
class SimilarityPreservingLoss(DistillLoss):
    """Similarity-preserving KD: images of a batch relate alike in both models.

    ``G = row_normalise(Q Q^T)`` with ``Q`` the ``(B, C*H*W)`` flattened level;
    ``L = loss_weight * sum_l ||G_S - G_T||_F^2 / B^2``.

    Tung & Mori, "Similarity-Preserving Knowledge Distillation", ICCV 2019.

    Args:
        loss_weight: multiplier of the loss.
    """

    def forward(self, student: List[Tensor], teacher: List[Tensor], ctx: DistillContext) -> Tensor:
        return self.loss_weight * sum((self._gram(s) - self._gram(t)).pow(2).sum() / s.shape[0] ** 2
                                      for s, t in zip(student, teacher))

    @staticmethod
    def _gram(feat: Tensor) -> Tensor:
        flat = feat.float().flatten(1)
        return F.normalize(flat @ flat.t(), dim=1)
