"""FitNets-style feature imitation."""
from typing import List

from torch import Tensor

from mmkd.context import DistillContext
from mmkd.registry import MODELS

from ..base import DistillLoss
from .utils import align_levels


@MODELS.register_module()
class FeatureMSELoss(DistillLoss):
    """Mean squared error between adapted student and teacher features.

    ``L = loss_weight * sum_l mean_{b,c,h,w} (r(S_l) - T_l)^2`` where ``r`` is
    the adapter (a 1x1 convolution, FitNets' regressor) and ``l`` runs over the
    feature levels of the entry. Levels are aligned as in every feature loss
    (a student level of another size is resized to the teacher's; the teacher
    is detached).

    Romero et al., "FitNets: Hints for Thin Deep Nets", ICLR 2015.

    Args:
        loss_weight: multiplier of the loss.
        reduction: ``'mean'`` over elements of each level (default) or
            ``'sum'`` over them, divided by the batch size.
    """

    def __init__(self, loss_weight: float = 1.0, reduction: str = 'mean') -> None:
        super().__init__(loss_weight)
        if reduction not in ('mean', 'sum'):
            raise ValueError(f'FeatureMSELoss reduction must be "mean" or "sum", got "{reduction}"')
        self.reduction = reduction

    def forward(self, student: List[Tensor], teacher: List[Tensor], ctx: DistillContext) -> Tensor:
        student, teacher = align_levels(student, teacher, type(self).__name__)
        per_level = [(s - t).square() for s, t in zip(student, teacher)]
        if self.reduction == 'mean':
            total = sum(error.mean() for error in per_level)
        else:
            total = sum(error.sum() for error in per_level) / ctx.batch_size
        return self.loss_weight * total
