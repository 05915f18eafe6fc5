"""Background-weighted masks: foreground and background imitated with their own weights."""
from typing import List, Optional

import torch
from torch import Tensor

from mmkd.context import DistillContext
from mmkd.registry import MODELS

from .base import MaskCfg, SpatialMask, build_mask
from .boxes import BoxSet, fgd_reference_windows, overlap_windows, window_cells
from .grid import LevelGrid


@MODELS.register_module()
class DecoupledMask(SpatialMask):
    """DeFeat's decoupled foreground / background weights.

    With a binary foreground mask ``M`` (default: :class:`GTBoxMask`), on
    level ``l``::

        W_l = a_fg * M_l / (2 N_fg,l) + a_bg * (1 - M_l) / (2 N_bg,l)

    where ``N_fg,l = max(1, sum_{b,i,j} M_l)`` and ``N_bg,l = max(1,
    sum_{b,i,j} (1 - M_l))`` count the level's foreground and background
    locations over the batch. Used with ``MaskedFeatureLoss(normalize='none')``
    this is DeFeat's neck loss
    ``a_fg/(2 N_fg) sum M (T - S)^2 + a_bg/(2 N_bg) sum (1 - M)(T - S)^2``.

    Guo et al., "Distilling Object Detectors via Decoupled Features", CVPR
    2021. The official code's Faster R-CNN config weights the two parts 3
    (foreground) and 12 (background) and averages over the FPN levels; mmkd
    sums over levels, so the equivalent weights are ``3 / L`` and ``12 / L``.
    A level with no foreground (an image batch without boxes) contributes only
    its background term.

    Args:
        fg_weight: ``a_fg``.
        bg_weight: ``a_bg``.
        foreground: config of the foreground mask (binarised with ``> 0``;
            default ``mmkd.GTBoxMask``).
    """

    def __init__(self, fg_weight: float = 1.0, bg_weight: float = 1.0,
                 foreground: Optional[MaskCfg] = None) -> None:
        super().__init__()
        self.fg_weight = fg_weight
        self.bg_weight = bg_weight
        self.foreground = build_mask(foreground or dict(type='mmkd.GTBoxMask'))
        if not isinstance(self.foreground, SpatialMask):
            raise TypeError(f'DecoupledMask needs a spatial foreground mask, got '
                            f'{type(self.foreground).__name__}')
        self.required_records = self.foreground.required_records

    def flat(self, student: List[Tensor], teacher: List[Tensor], ctx: DistillContext,
             grid: LevelGrid) -> Tensor:
        foreground = (self.foreground.flat(student, teacher, ctx, grid) > 0).float()
        background = 1.0 - foreground
        fg_count = grid.level_sum(foreground).sum(0).clamp(min=1)[grid.level_index]
        bg_count = grid.level_sum(background).sum(0).clamp(min=1)[grid.level_index]
        return (self.fg_weight * foreground / (2 * fg_count)
                + self.bg_weight * background / (2 * bg_count))


@MODELS.register_module()
class ScaleAwareMask(SpatialMask):
    """FGD's scale mask with its foreground / background weights.

    On level ``l`` of image ``b``::

        W = a_fg * max_{r : (i,j) in r} 1 / (H_r W_r)    inside some box
        W = a_bg / N_bg                                   elsewhere

    where ``H_r x W_r`` is the size of box ``r`` in cells of the level (the
    cells that overlap it, so the weights of one box sum to ``a_fg``), the
    maximum picks the smallest box covering a location, and ``N_bg = max(1,
    number of background cells of the level in the image)``. With the
    teacher's spatial and channel attention and ``MaskedFeatureLoss(
    normalize='batch')`` this is FGD's focal feature loss (see
    :class:`mmkd.FGDLoss`).

    Yang et al., "Focal and Global Knowledge Distillation for Detectors", CVPR
    2022 (eq. 3-4, 6).

    ``cells='overlap'`` (default) weights exactly the cells a box overlaps,
    as the paper defines ``M``. The official code (``cells='fgd_official'``)
    takes ``floor(x1/s) .. ceil(x2/s)`` inclusive, one more column and row,
    and divides by that larger window's size (uncut at the border); its loss
    values differ from the paper rule's by a few percent, more with many small
    boxes. Use it to reproduce the reference implementation exactly.

    Args:
        fg_weight: ``a_fg`` (FGD's alpha when used alone).
        bg_weight: ``a_bg`` (FGD's beta).
        cells: ``'overlap'`` or ``'fgd_official'``.
    """
    CELL_RULES = ('overlap', 'fgd_official')

    def __init__(self, fg_weight: float = 1.0, bg_weight: float = 1.0, cells: str = 'overlap') -> None:
        super().__init__()
        if cells not in self.CELL_RULES:
            raise ValueError(f'cells must be one of {self.CELL_RULES}, got "{cells}"')
        self.fg_weight = fg_weight
        self.bg_weight = bg_weight
        self.cells = cells

    def flat(self, student: List[Tensor], teacher: List[Tensor], ctx: DistillContext,
             grid: LevelGrid) -> Tensor:
        boxes = BoxSet.ground_truth(ctx)
        if self.cells == 'fgd_official':
            windows, areas = fgd_reference_windows(boxes, grid)
        else:
            windows = overlap_windows(boxes, grid)
            areas = windows.widths * windows.heights
        cells = window_cells(windows, boxes, grid)
        inverse_area = 1.0 / areas.clamp(min=1).float()
        foreground = torch.zeros(ctx.batch_size, grid.num_locations, device=grid.device)
        foreground.view(-1).scatter_reduce_(
            0, cells.image * grid.num_locations + cells.location,
            inverse_area.flatten()[cells.window], reduce='amax')
        background = (foreground == 0).float()
        bg_count = grid.level_sum(background).clamp(min=1)[:, grid.level_index]
        return self.fg_weight * foreground + self.bg_weight * background / bg_count
