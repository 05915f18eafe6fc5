"""Pearson-correlation feature distillation."""
from typing import List, Tuple

import torch
from torch import Tensor

from mmkd.context import DistillContext
from mmkd.registry import MODELS
from ..base import DistillLoss
from .utils import align_levels


def centred(features: Tensor) -> Tuple[Tensor, Tensor]:
    """``(x - mu, sigma^2)`` per image and channel over the locations (``(B, C)`` variances)."""
    centred_features = features - features.mean(dim=(2, 3), keepdim=True)
    var = torch.linalg.vector_norm(centred_features, dim=(2, 3)).square() / features[0, 0].numel()
    return centred_features, var


def standardized_mse(student: Tensor, teacher: Tensor, eps: float) -> Tensor:
    """``mean (S_hat - T_hat)^2 / 2`` without materialising ``S_hat``.

    Per image and channel, with ``v`` the variances over the ``N`` locations:
    ``E[S_hat^2] = v_S / (v_S + eps)``, ``E[T_hat^2] = v_T / (v_T + eps)`` and
    ``E[S_hat T_hat] = E[(S - mu_S) T_hat] / sqrt(v_S + eps)``; the reductions
    run as batched dot products.
    """
    teacher_centred, var_t = centred(teacher)
    teacher_hat = teacher_centred * torch.rsqrt(var_t + eps)[..., None, None]
    student_centred, var_s = centred(student)
    cross = torch.einsum('bchw,bchw->bc', student_centred, teacher_hat) / student[0, 0].numel()
    per_channel = (var_s / (var_s + eps) + var_t / (var_t + eps)) / 2 - cross * torch.rsqrt(var_s + eps)
    return per_channel.mean()


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
