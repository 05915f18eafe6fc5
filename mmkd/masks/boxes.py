"""Boxes as windows of grid cells, enumerated for all images, boxes and levels at once.

A box covers, on each level, a rectangle of cells ``[x_lo, x_hi] x [y_lo,
y_hi]`` (inclusive; empty when ``lo > hi``). :func:`window_cells` lists every
cell of every window with one ``repeat_interleave``, so the cost grows with the
number of covered cells, not with ``boxes x locations``.
"""
from dataclasses import dataclass
from typing import Tuple

import torch
from torch import Tensor

from mmkd.context import DistillContext

from .grid import LevelGrid


@dataclass
class BoxSet:
    """Padded boxes of a batch.

    Attributes:
        boxes: ``(B, M, 4)`` ``x1, y1, x2, y2`` in input pixels, clipped to
            the input.
        valid: ``(B, M)`` True for real boxes with a positive area inside the
            input (padding, zero-area boxes and boxes outside the input are
            False).
    """
    boxes: Tensor
    valid: Tensor

    @classmethod
    def clipped(cls, boxes: Tensor, valid: Tensor, input_size: Tuple[int, int]) -> 'BoxSet':
        height, width = input_size
        boxes = torch.stack([boxes[..., 0].clamp(0, width), boxes[..., 1].clamp(0, height),
                             boxes[..., 2].clamp(0, width), boxes[..., 3].clamp(0, height)], dim=-1)
        inside = (boxes[..., 2] > boxes[..., 0]) & (boxes[..., 3] > boxes[..., 1])
        return cls(boxes, valid & inside)

    @classmethod
    def ground_truth(cls, ctx: DistillContext) -> 'BoxSet':
        """The batch's ground-truth boxes, clipped to the padded input."""
        gt = ctx.ground_truth
        return cls.clipped(gt.bboxes.float(), gt.valid, ctx.input_size)

    @property
    def areas(self) -> Tensor:
        return (self.boxes[..., 2] - self.boxes[..., 0]) * (self.boxes[..., 3] - self.boxes[..., 1])


@dataclass
class Windows:
    """Inclusive cell ranges, one per ``(image, box, group)``; ``(B, M, G)`` each."""
    x_lo: Tensor
    x_hi: Tensor
    y_lo: Tensor
    y_hi: Tensor

    @property
    def widths(self) -> Tensor:
        return (self.x_hi - self.x_lo + 1).clamp(min=0)

    @property
    def heights(self) -> Tensor:
        return (self.y_hi - self.y_lo + 1).clamp(min=0)


@dataclass
class Cells:
    """Cells of windows, one entry each (flat tensors of equal length).

    Attributes:
        window: index of the window in the flattened ``(B, M, G)`` layout.
        x: column of the cell.
        y: row of the cell.
    """
    window: Tensor
    x: Tensor
    y: Tensor


@dataclass
class GridCells:
    """Cells of box windows on a :class:`LevelGrid` (flat tensors of equal length).

    Attributes:
        image: batch index.
        window: index into the flattened ``(B, M, L)`` windows.
        location: flat location index on the grid.
    """
    image: Tensor
    window: Tensor
    location: Tensor

    def __add__(self, other: 'GridCells') -> 'GridCells':
        return GridCells(torch.cat([self.image, other.image]), torch.cat([self.window, other.window]),
                         torch.cat([self.location, other.location]))


def open_range(low: Tensor, high: Tensor, size: Tensor) -> Tuple[Tensor, Tensor]:
    """Integers ``i`` with ``low < i < high`` and ``0 <= i < size`` as ``(first, last)``."""
    first = torch.floor(low).long() + 1
    last = torch.ceil(high).long() - 1
    return first.clamp(min=0), torch.minimum(last, size - 1)


def overlap_windows(boxes: BoxSet, grid: LevelGrid) -> Windows:
    """Cells whose area overlaps the box, on every level: ``(B, M, L)`` windows.

    Cell ``i`` spans ``[i s, (i + 1) s)``; it overlaps ``(x1, x2)`` when
    ``x1 / s - 1 < i < x2 / s``.
    """
    return _windows(boxes.boxes, grid, low_shift=1.0, high_shift=0.0)


def fgd_reference_windows(boxes: BoxSet, grid: LevelGrid) -> Tuple[Windows, Tensor]:
    """The cells and box areas of FGD's official code: ``(B, M, L)`` windows and areas.

    The official code covers columns ``floor(x1 / s) .. ceil(x2 / s)`` and rows
    likewise, inclusive: always one column and one row more than the cells
    the box overlaps (:func:`overlap_windows`, the paper's definition). Its
    area is that window's size before it is cut to the grid, so a box at the
    border keeps its uncut area.
    """
    per_level = boxes.boxes[:, :, None, :] / grid.strides.repeat(1, 2)  # (B, M, L, 4) in cells
    low = per_level[..., :2].floor().long()
    high = per_level[..., 2:].ceil().long()
    areas = (high - low + 1).prod(-1)
    windows = Windows(low[..., 0].clamp(min=0), torch.minimum(high[..., 0], grid.widths - 1),
                      low[..., 1].clamp(min=0), torch.minimum(high[..., 1], grid.heights - 1))
    return windows, areas


def prior_windows(boxes: BoxSet, grid: LevelGrid, offset: float) -> Windows:
    """Cells whose prior point ``(i + offset) s`` lies strictly inside the box."""
    return _windows(boxes.boxes, grid, low_shift=offset, high_shift=offset)


def centre_windows(boxes: BoxSet, grid: LevelGrid, offset: float, radius: float) -> Windows:
    """Cells whose prior lies strictly within ``radius`` strides of the box centre."""
    centres = (boxes.boxes[..., :2] + boxes.boxes[..., 2:]) / 2
    half = radius * grid.strides  # (L, 2)
    lows = centres[:, :, None, :] - half
    highs = centres[:, :, None, :] + half
    x_lo, x_hi = open_range(lows[..., 0] / grid.strides[:, 0] - offset,
                            highs[..., 0] / grid.strides[:, 0] - offset, grid.widths)
    y_lo, y_hi = open_range(lows[..., 1] / grid.strides[:, 1] - offset,
                            highs[..., 1] / grid.strides[:, 1] - offset, grid.heights)
    return Windows(x_lo, x_hi, y_lo, y_hi)


def _windows(boxes: Tensor, grid: LevelGrid, low_shift: float, high_shift: float) -> Windows:
    per_level = boxes[:, :, None, :] / grid.strides.repeat(1, 2)  # (B, M, L, 4) in cells
    x_lo, x_hi = open_range(per_level[..., 0] - low_shift, per_level[..., 2] - high_shift, grid.widths)
    y_lo, y_hi = open_range(per_level[..., 1] - low_shift, per_level[..., 3] - high_shift, grid.heights)
    return Windows(x_lo, x_hi, y_lo, y_hi)


def enumerate_windows(windows: Windows, keep: Tensor) -> Cells:
    """Every cell of every kept window. ``keep`` broadcasts to the windows' shape."""
    widths = windows.widths
    counts = (widths * windows.heights * keep).flatten()
    window = torch.repeat_interleave(torch.arange(counts.numel(), device=counts.device), counts)
    first = counts.cumsum(0) - counts
    rank = torch.arange(window.numel(), device=counts.device) - first[window]
    width = widths.flatten()[window]
    x = windows.x_lo.flatten()[window] + rank % width
    y = windows.y_lo.flatten()[window] + torch.div(rank, width, rounding_mode='floor')
    return Cells(window, x, y)


def window_cells(windows: Windows, boxes: BoxSet, grid: LevelGrid) -> GridCells:
    """Cells of ``(B, M, L)`` level windows of the valid boxes, as grid locations."""
    batch, num_boxes, num_levels = windows.x_lo.shape
    cells = enumerate_windows(windows, boxes.valid[..., None])
    level = cells.window % num_levels
    return GridCells(image=torch.div(cells.window, num_boxes * num_levels, rounding_mode='floor'),
                     window=cells.window, location=grid.flat_index(level, cells.x, cells.y))


def box_region_mask(boxes: BoxSet, grid: LevelGrid) -> Tensor:
    """``(B, N)`` binary mask of the locations whose cell overlaps any valid box."""
    cells = window_cells(overlap_windows(boxes, grid), boxes, grid)
    return scatter_locations(cells, grid, boxes.boxes.shape[0])


def scatter_locations(cells: GridCells, grid: LevelGrid, batch: int) -> Tensor:
    """``(B, N)`` mask that is 1 on the cells' locations, 0 elsewhere."""
    mask = torch.zeros(batch, grid.num_locations, device=grid.device)
    mask[cells.image, cells.location] = 1.0
    return mask
