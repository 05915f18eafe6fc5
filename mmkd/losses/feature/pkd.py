"""Pearson-correlation feature distillation."""
from typing import List

import torch
from torch import Tensor

from mmkd.context import DistillContext
from mmkd.registry import MODELS

from ..base import DistillLoss
from .utils import align_levels


def standardized(features: Tensor, eps: float) -> Tensor:
    """``(x - mu) / sqrt(sigma^2 + eps)`` per image and channel over the locations."""
    centred = features - features.mean(dim=(2, 3), keepdim=True)
    var = centred.square().mean(dim=(2, 3), keepdim=True)
    return centred * torch.rsqrt(var + eps)


def standardized_mse(student: Tensor, teacher: Tensor, eps: float) -> Tensor:
    """``mean (S_hat - T_hat)^2 / 2``, summed from the differences themselves.

    The closed form ``1 - E[S_hat T_hat]`` cancels catastrophically as the
    student approaches the teacher (a 19% error at ``1 - r = 5e-7`` in float32);
    the squared differences keep full relative precision.
    """
    return (standardized(student, eps) - standardized(teacher, eps)).square().mean() / 2


@MODELS.register_module()
class PKDLoss(DistillLoss):
    """PKD: MSE of standardised features, i.e. one minus Pearson's correlation.

    Every channel of every image is standardised over its locations
    (``x_hat = (x - mu) / sqrt(sigma^2 + eps)``) and::

        L = loss_weight * sum_l 1 / (2 B C H W) sum (S_hat - T_hat)^2
          = loss_weight * sum_l mean_{b,c} (1 - r(S_bc, T_bc))

    with ``r`` Pearson's correlation over the ``H W`` locations (exact for
    ``eps = 0``). A student level of another size is resized to the teacher's.

    Cao et al., "PKD: General Distillation Framework for Object Detectors via
    Pearson Correlation Coefficient", NeurIPS 2022. mmrazor's configs use
    ``loss_weight=6`` (Faster R-CNN) and ``10`` (RetinaNet) per FPN level;
    mmrazor standardises each channel over the whole batch, this loss per
    image (the value has the same ``1 - r`` scale).

    Args:
        eps: added to the variance.
        loss_weight: multiplier of the loss.
    """

    def __init__(self, eps: float = 1e-6, loss_weight: float = 1.0) -> None:
        super().__init__(loss_weight)
        self.eps = eps

    def forward(self, student: List[Tensor], teacher: List[Tensor], ctx: DistillContext) -> Tensor:
        student, teacher = align_levels(student, teacher, type(self).__name__)
        total = student[0].new_zeros(())
        for s, t in zip(student, teacher):
            total = total + standardized_mse(s, t, self.eps)
        return self.loss_weight * total
