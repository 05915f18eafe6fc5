"""Mask interface and composition."""
from typing import List, Sequence, Union

import torch
from torch import Tensor, nn

from mmkd.context import DistillContext
from mmkd.registry import MODELS, build_mmkd_module

from .grid import LevelGrid

MaskCfg = Union[dict, 'BaseMask']


class BaseMask(nn.Module):
    """A weight map over feature levels.

    ``mask(student, teacher, ctx)`` takes the levels a feature loss sees
    (student already adapted to the teacher's shape) and returns one tensor per
    level that broadcasts against that level's ``(B, C, H, W)`` features:
    ``(B, 1, H, W)`` for spatial masks, ``(B, C, 1, 1)`` for channel masks.
    Masks are weights, not targets: they are computed without gradient.

    Subclasses list in ``required_records`` the record keys they read from
    ``ctx`` (losses built on them forward this to the hook).
    """
    required_records: Sequence[str] = ()

    def forward(self, student: List[Tensor], teacher: List[Tensor],
                ctx: DistillContext) -> List[Tensor]:
        with torch.no_grad():
            return self.compute(student, teacher, ctx)

    def compute(self, student: List[Tensor], teacher: List[Tensor],
                ctx: DistillContext) -> List[Tensor]:
        raise NotImplementedError


class SpatialMask(BaseMask):
    """A spatial mask built on the flat location axis of all levels at once.

    Subclasses implement :meth:`flat`, returning ``(B, N)`` for the teacher
    levels' :class:`LevelGrid`; other masks can reuse that flat form.
    """

    def compute(self, student: List[Tensor], teacher: List[Tensor],
                ctx: DistillContext) -> List[Tensor]:
        grid = LevelGrid.from_levels(teacher, ctx)
        return grid.split(self.flat(student, teacher, ctx, grid))

    def flat(self, student: List[Tensor], teacher: List[Tensor], ctx: DistillContext,
             grid: LevelGrid) -> Tensor:
        raise NotImplementedError


def build_mask(cfg: MaskCfg) -> BaseMask:
    """Build a mask from its config (``type='mmkd.GTBoxMask'`` or unprefixed)."""
    if isinstance(cfg, BaseMask):
        return cfg
    mask = build_mmkd_module(cfg)
    if not isinstance(mask, BaseMask):
        raise TypeError(f'{cfg["type"]} is not an mmkd mask (a subclass of mmkd.masks.BaseMask)')
    return mask


@MODELS.register_module()
class ProductMask(BaseMask):
    """Element-wise product of masks, level by level.

    ``M_l = prod_k M^k_l`` (broadcasting), e.g. a foreground mask times the
    teacher's spatial and channel attention as in FGD.

    Args:
        masks: configs (or instances) of the masks to multiply.
    """

    def __init__(self, masks: Sequence[MaskCfg]) -> None:
        super().__init__()
        if not masks:
            raise ValueError('ProductMask needs at least one mask')
        self.masks = nn.ModuleList(build_mask(cfg) for cfg in masks)
        self.required_records = tuple(dict.fromkeys(
            key for mask in self.masks for key in mask.required_records))

    def compute(self, student: List[Tensor], teacher: List[Tensor],
                ctx: DistillContext) -> List[Tensor]:
        product = self.masks[0].compute(student, teacher, ctx)
        for mask in self.masks[1:]:
            product = [a * b for a, b in zip(product, mask.compute(student, teacher, ctx))]
        return product
