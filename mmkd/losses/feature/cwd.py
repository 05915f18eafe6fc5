"""Channel-wise distillation."""
from typing import List

from torch import Tensor

from mmkd.context import DistillContext
from mmkd.registry import MODELS

from ..base import DistillLoss
from ..functional import softmax_kd
from .utils import align_levels


@MODELS.register_module()
class CWDLoss(DistillLoss):
    """Channel-wise distillation: KL divergence of per-channel spatial distributions.

    Each channel ``c`` of a level is turned into a distribution over its
    ``H W`` locations, ``phi(y_c) = softmax(y_c / tau)``, and::

        L = loss_weight * sum_l tau^2 / (B C) sum_{b,c} KL(phi(T_bc) || phi(S_bc))

    Shu et al., "Channel-wise Knowledge Distillation for Dense Prediction",
    ICCV 2021 (eq. 3-4; ``tau^2 / C`` per image, averaged over the batch).
    mmrazor's detection configs (``cwd_fpn_retina_r101_retina_r50_1x_coco``)
    use ``tau=1`` and ``loss_weight=10`` per FPN level.

    Args:
        tau: temperature.
        loss_weight: multiplier of the loss.
    """

    def __init__(self, tau: float = 1.0, loss_weight: float = 1.0) -> None:
        super().__init__(loss_weight)
        if tau <= 0:
            raise ValueError(f'tau must be positive, got {tau}')
        self.tau = tau

    def forward(self, student: List[Tensor], teacher: List[Tensor], ctx: DistillContext) -> Tensor:
        student, teacher = align_levels(student, teacher, type(self).__name__)
        total = student[0].new_zeros(())
        for s, t in zip(student, teacher):
            total = total + softmax_kd(s.flatten(2), t.flatten(2), self.tau).mean()  # mean over (B, C)
        return self.loss_weight * total
