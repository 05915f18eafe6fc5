"""Hinton's knowledge distillation on class logits."""
from typing import List

import torch
from torch import Tensor

from mmkd.context import DistillContext
from mmkd.registry import MODELS

from ..base import DistillLoss
from ..functional import softmax_kd


def locations_by_channels(levels: List[Tensor]) -> Tensor:
    """``[(B, C, H_l, W_l)]`` -> ``(sum_l B*H_l*W_l, C)`` in float32: one row per location."""
    return torch.cat([level.permute(0, 2, 3, 1).reshape(-1, level.shape[1]) for level in levels]).float()


@MODELS.register_module()
class KDLoss(DistillLoss):
    """Softmax knowledge distillation with temperature.

    ``L = loss_weight * T^2 * mean_i KL(softmax(z_T,i / T) || softmax(z_S,i / T))``
    over every location ``i`` of every level, the class channel being the
    softmax axis. Meant for softmax classifiers; sigmoid heads with one class
    need :class:`mmkd.SigmoidKDLoss` instead.

    Hinton et al., "Distilling the Knowledge in a Neural Network", 2015.

    Args:
        temperature: softening temperature ``T``.
        loss_weight: multiplier of the loss.
    """
    compares_classes = True

    def __init__(self, temperature: float = 1.0, loss_weight: float = 1.0) -> None:
        super().__init__(loss_weight)
        self.temperature = temperature

    def forward(self, student: List[Tensor], teacher: List[Tensor], ctx: DistillContext) -> Tensor:
        kl = softmax_kd(locations_by_channels(student), locations_by_channels(teacher), self.temperature)
        return self.loss_weight * kl.mean()
