"""Foreground masks: where the ground-truth objects are.

* :class:`GTBoxMask`: the cells that overlap a ground-truth box.
* :class:`AnchorIoUMask`: FGFI's near-object anchor locations (anchor heads).
* :class:`PriorInBoxMask`: cells whose prior point lies in a box (anchor-free
  heads such as YOLOX and RTMDet), optionally widened by a centre radius.
"""
import math
from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

import torch
from mmdet.models.task_modules.prior_generators import AnchorGenerator
from torch import Tensor, nn

from mmkd.context import DistillContext
from mmkd.registry import MODELS
from mmkd.utils.modules import find_module

from .base import SpatialMask
from .boxes import (
    BoxSet,
    Windows,
    box_region_mask,
    centre_windows,
    enumerate_windows,
    prior_windows,
    scatter_locations,
    window_cells,
)
from .grid import LevelGrid


@MODELS.register_module()
class GTBoxMask(SpatialMask):
    """Binary mask of the locations whose cell overlaps a ground-truth box.

    ``M_ij = 1`` when cell ``[j s, (j+1) s) x [i s, (i+1) s)`` of a level of
    stride ``s`` overlaps some box with positive area, else 0. This is the
    object mask of DeFeat and FGD. Boxes are clipped to the input first; boxes
    with no area inside the input are ignored.
    """

    def flat(self, student: List[Tensor], teacher: List[Tensor], ctx: DistillContext,
             grid: LevelGrid) -> Tensor:
        return box_region_mask(BoxSet.ground_truth(ctx), grid)


@MODELS.register_module()
class PriorInBoxMask(SpatialMask):
    """Binary mask of the locations whose prior point lies inside a ground-truth box.

    The prior of column ``j``, row ``i`` on a level of stride ``s`` is
    ``((j + offset) s, (i + offset) s)``; ``offset=0.5`` is the cell centre,
    which YOLOX's SimOTA and RTMDet's assigner test against the boxes. The
    foreground imitation region of FGFI (Wang et al., "Distilling Object
    Detectors with Fine-grained Feature Imitation", CVPR 2019) carried over to
    anchor-free heads, which have no anchors to match by IoU.

    With ``center_radius=r`` a location also counts when its prior lies within
    ``r`` strides of the box centre (SimOTA's candidate region, ``r=2.5`` in
    YOLOX), so boxes smaller than a cell still get locations.

    Args:
        offset: prior offset in strides (0.5: cell centre).
        center_radius: optional radius, in strides, of the centre region.
    """

    def __init__(self, offset: float = 0.5, center_radius: Optional[float] = None) -> None:
        super().__init__()
        if center_radius is not None and center_radius <= 0:
            raise ValueError(f'center_radius must be positive, got {center_radius}')
        self.offset = offset
        self.center_radius = center_radius

    def flat(self, student: List[Tensor], teacher: List[Tensor], ctx: DistillContext,
             grid: LevelGrid) -> Tensor:
        boxes = BoxSet.ground_truth(ctx)
        cells = window_cells(prior_windows(boxes, grid, self.offset), boxes, grid)
        if self.center_radius is not None:
            centre = centre_windows(boxes, grid, self.offset, self.center_radius)
            cells = cells + window_cells(centre, boxes, grid)
        return scatter_locations(cells, grid, ctx.batch_size)


@dataclass
class _AnchorGroups:
    """The anchors of the grid as ``K`` groups (one per level and base anchor).

    Group ``k``'s anchor at column ``j``, row ``i`` is ``base[k] + (j sx, i sy,
    j sx, i sy)``; columns run to ``widths[k]``, rows to ``heights[k]``.
    """
    level: Tensor      # (K,) feature level of the group
    base: Tensor       # (K, 4)
    strides: Tensor    # (K, 2)
    widths: Tensor     # (K,)
    heights: Tensor    # (K,)

    @property
    def areas(self) -> Tensor:
        return (self.base[:, 2] - self.base[:, 0]) * (self.base[:, 3] - self.base[:, 1])

    def spans(self, axis: int) -> Tuple[Tensor, Tensor]:
        """``(K, S)`` anchor start / end along ``axis`` (0: x, 1: y) and validity."""
        sizes = self.widths if axis == 0 else self.heights
        steps = torch.arange(int(sizes.max()), device=sizes.device)
        shifts = steps[None, :] * self.strides[:, axis, None]
        lows = self.base[:, axis, None] + shifts
        highs = self.base[:, axis + 2, None] + shifts
        return torch.stack([lows, highs], dim=-1), steps[None, :] < sizes[:, None]


@MODELS.register_module()
class AnchorIoUMask(SpatialMask):
    """FGFI's fine-grained imitation mask for anchor-based heads.

    For each ground-truth box ``g``, with ``IoU(a, g)`` over all anchors ``a``
    of all levels, the imitation region is
    ``{a : IoU(a, g) > psi * max_a' IoU(a', g)}``; a location is in the mask
    when one of its anchors is in the region of some box (OR over anchors and
    boxes).

    Wang et al., "Distilling Object Detectors with Fine-grained Feature
    Imitation", CVPR 2019 (``psi = 0.5`` is the paper's default).

    The anchors are those of the student head's ``prior_generator`` (an
    ``AnchorGenerator``); each feature level is matched to the generator level
    of the same stride. IoU separates into horizontal and vertical overlaps on
    the anchor grid, so the maximum IoU per box and the candidate anchors are
    found from per-row and per-column overlaps; only candidate anchors are
    tested, all boxes, images and levels at once.

    Args:
        psi: threshold factor on each box's best IoU.
        head: attribute path of the student head that owns the anchors.
    """

    def __init__(self, psi: float = 0.5, head: str = 'bbox_head') -> None:
        super().__init__()
        if not 0 < psi < 1:
            raise ValueError(f'psi must be in (0, 1), got {psi}')
        self.psi = psi
        self.head = head
        self._groups: Dict[tuple, _AnchorGroups] = {}

    def flat(self, student: List[Tensor], teacher: List[Tensor], ctx: DistillContext,
             grid: LevelGrid) -> Tensor:
        groups = self._anchor_groups(ctx.student, grid)
        boxes = BoxSet.ground_truth(ctx)
        overlap_x, overlap_y = _axis_overlaps(groups, boxes)
        best_x, best_y = overlap_x.amax(-1), overlap_y.amax(-1)  # (B, M, K)
        min_inter, keep = self._min_intersections(groups, boxes, best_x * best_y)
        # an anchor's intersection is its row overlap times its column overlap,
        # so only rows / columns reaching min_inter with the best partner can hit
        candidates = _candidate_windows(overlap_x * best_y[..., None] > min_inter[..., None],
                                        overlap_y * best_x[..., None] > min_inter[..., None])
        cells = enumerate_windows(candidates, keep)
        inter = (overlap_x.flatten(0, 2)[cells.window, cells.x]
                 * overlap_y.flatten(0, 2)[cells.window, cells.y])
        positive = inter > min_inter.flatten()[cells.window]
        window = cells.window[positive]
        num_groups = len(groups.level)
        locations = grid.flat_index(groups.level[window % num_groups], cells.x[positive],
                                    cells.y[positive])
        images = torch.div(window, boxes.valid.shape[1] * num_groups, rounding_mode='floor')
        mask = torch.zeros(ctx.batch_size, grid.num_locations, device=grid.device)
        mask[images, locations] = 1.0
        return mask

    def _min_intersections(self, groups: _AnchorGroups, boxes: BoxSet,
                           best_inter: Tensor) -> Tuple[Tensor, Tensor]:
        """``(B, M, K)`` intersection an anchor needs for ``IoU > psi * best IoU``, and which count.

        For a fixed anchor shape IoU grows with the intersection, so a box's
        best IoU in group ``k`` comes from the group's best intersection;
        ``IoU > t`` is ``intersection > t (area_a + area_g) / (1 + t)``.
        """
        union_areas = groups.areas + boxes.areas[..., None]
        best_iou = (best_inter / (union_areas - best_inter)).amax(-1)  # (B, M)
        threshold = (self.psi * best_iou)[..., None]
        keep = boxes.valid[..., None] & (best_iou[..., None] > 0)
        return threshold * union_areas / (1 + threshold), keep

    def _anchor_groups(self, detector: nn.Module, grid: LevelGrid) -> _AnchorGroups:
        generator = _prior_generator(detector, self.head)
        key = (id(generator), grid.sizes, tuple(grid.strides.flatten().tolist()), grid.device)
        if key not in self._groups:
            self._groups[key] = _build_groups(generator, grid)
        return self._groups[key]


def _axis_overlaps(groups: _AnchorGroups, boxes: BoxSet) -> Tuple[Tensor, Tensor]:
    """Overlap lengths of every anchor column / row with every box: ``(B, M, K, S)``."""
    sides = boxes.boxes[:, :, None, None, :]  # (B, M, 1, 1, 4)
    overlaps = []
    for axis in (0, 1):
        spans, valid = groups.spans(axis)  # (K, S, 2), (K, S)
        low = torch.maximum(spans[..., 0], sides[..., axis])
        high = torch.minimum(spans[..., 1], sides[..., axis + 2])
        overlaps.append((high - low).clamp(min=0) * valid)
    return overlaps[0], overlaps[1]


def _candidate_windows(candidate_x: Tensor, candidate_y: Tensor) -> Windows:
    """Contiguous runs of candidates (overlaps along a line are unimodal)."""
    x_lo, y_lo = candidate_x.int().argmax(-1), candidate_y.int().argmax(-1)
    return Windows(x_lo, x_lo + candidate_x.sum(-1) - 1, y_lo, y_lo + candidate_y.sum(-1) - 1)


def _prior_generator(detector: nn.Module, head: str) -> AnchorGenerator:
    generator = getattr(find_module(detector, head, 'AnchorIoUMask: head'), 'prior_generator', None)
    if not isinstance(generator, AnchorGenerator):
        raise TypeError(f'AnchorIoUMask needs an anchor-based head, but {head}.prior_generator is '
                        f'{type(generator).__name__}; use mmkd.PriorInBoxMask for anchor-free heads')
    return generator


def _build_groups(generator: AnchorGenerator, grid: LevelGrid) -> _AnchorGroups:
    gen_strides = [tuple(float(s) for s in stride) for stride in generator.strides]
    parts = []
    for level, stride_x in enumerate(grid.strides[:, 0].tolist()):
        match = min(range(len(gen_strides)),
                    key=lambda i: abs(math.log(gen_strides[i][0] / stride_x)))
        if abs(gen_strides[match][0] / stride_x - 1) > 0.25:
            raise ValueError(f'AnchorIoUMask: feature level {level} has stride {stride_x:g} but the '
                             f'anchor generator has strides {[s[0] for s in gen_strides]}')
        base = generator.base_anchors[match].to(grid.device, torch.float32)
        parts.append((level, base, gen_strides[match]))
    count = [len(base) for _, base, _ in parts]
    repeat = torch.tensor(count, device=grid.device)
    levels = torch.arange(len(parts), device=grid.device)
    return _AnchorGroups(
        level=torch.repeat_interleave(levels, repeat),
        base=torch.cat([base for _, base, _ in parts]),
        strides=torch.repeat_interleave(torch.tensor([s for _, _, s in parts], device=grid.device), repeat, 0),
        widths=torch.repeat_interleave(grid.widths, repeat),
        heights=torch.repeat_interleave(grid.heights, repeat))
