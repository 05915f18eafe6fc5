"""Feature imitation weighted by a mask (FGFI, DeFeat, GID style)."""
from functools import reduce
from operator import mul
from typing import List, Sequence

from torch import Tensor

from mmkd.context import DistillContext
from mmkd.masks import MaskCfg, build_mask
from mmkd.registry import MODELS

from ..base import DistillLoss
from .utils import align_levels

NORMALIZATIONS = ('mask', 'batch', 'none')


def masked_squared_error(student: Sequence[Tensor], teacher: Sequence[Tensor],
                         weights: Sequence[Sequence[Tensor]], normalize: str) -> Tensor:
    """``sum_l sum_{b,c,h,w} W_l (S_l - T_l)^2 / Z_l``.

    ``W_l`` is the product of the level's non-negative factors (each
    broadcasting to the level, e.g. a spatial and a channel mask); it is never
    materialised: ``sum W d^2 = sum (d prod_k sqrt(f_k))^2``, summed as plain
    squares (cascade summation in float32; a squared ``vector_norm`` is ~1e4
    times less accurate on CPU). ``Z_l`` is
    ``max(1, 2 sum_{b,h,w} W_l)`` for ``'mask'`` (the weight per location,
    averaged over channels; FGFI's ``2 N_p``), the batch size for
    ``'batch'`` and 1 for ``'none'``.
    """
    total = student[0].new_zeros(())
    for s, t, factors in zip(student, teacher, weights):
        scaled = s - t
        for factor in factors:
            scaled = scaled.mul_(factor.sqrt())
        error = scaled.square().sum()
        if normalize == 'mask':
            weight = reduce(mul, factors)
            per_location = weight.sum() * (s.numel() // weight.numel()) / s.shape[1]
            error = error / (2 * per_location).clamp(min=1)
        elif normalize == 'batch':
            error = error / s.shape[0]
        total = total + error
    return total


@MODELS.register_module()
class MaskedFeatureLoss(DistillLoss):
    """Squared-error feature imitation under any mask.

    ``L = loss_weight * sum_l sum_{b,c,h,w} M_l (S_l - T_l)^2 / Z_l`` with
    ``M`` from ``mask`` (any :mod:`mmkd.masks` config, e.g. a
    ``ProductMask``) and ``Z_l`` chosen by ``normalize``:

    * ``'mask'``: ``Z_l = max(1, 2 sum_{b,h,w} M_l)``. With a binary mask
      this is FGFI's ``1 / (2 N_p) sum I (S - T)^2`` per level (Wang et al.,
      "Distilling Object Detectors with Fine-grained Feature Imitation", CVPR
      2019), with ``N_p`` the level's imitation locations over the batch.
    * ``'batch'``: ``Z_l = B``, the per-image sum of FGD's focal loss.
    * ``'none'``: ``Z_l = 1``, for masks that carry their own normalisation
      such as :class:`mmkd.DecoupledMask` (DeFeat).

    A student level of another spatial size is resized bilinearly to the
    teacher's; no gradient reaches the teacher. An image batch without boxes
    gives 0 under a foreground mask (``Z_l`` is at least 1).

    Args:
        mask: config of the mask.
        normalize: ``'mask'``, ``'batch'`` or ``'none'``.
        loss_weight: multiplier of the loss.
    """

    def __init__(self, mask: MaskCfg, normalize: str = 'mask', loss_weight: float = 1.0) -> None:
        super().__init__(loss_weight)
        if normalize not in NORMALIZATIONS:
            raise ValueError(f'normalize must be one of {NORMALIZATIONS}, got "{normalize}"')
        self.mask = build_mask(mask)
        self.normalize = normalize
        self.required_records = self.mask.required_records

    def forward(self, student: List[Tensor], teacher: List[Tensor], ctx: DistillContext) -> Tensor:
        student, teacher = align_levels(student, teacher, type(self).__name__)
        masks = [(mask,) for mask in self.mask(student, teacher, ctx)]
        return self.loss_weight * masked_squared_error(student, teacher, masks, self.normalize)
