"""Feature levels laid out on one flat axis of locations.

Masks are built for every level at once on this axis (``N = sum_l H_l W_l``
locations, level after level, row-major inside a level, the order mmdet's prior
generators use) and split back into per-level maps at the end.
"""
from functools import cached_property
from typing import List, Sequence, Tuple

import torch
from torch import Tensor

from mmkd.context import DistillContext


class LevelGrid:
    """Sizes and strides of a list of feature levels, flattened.

    Location ``n`` of level ``l`` at row ``y`` and column ``x`` is
    ``starts[l] + y * widths[l] + x``.

    Args:
        sizes: ``(H_l, W_l)`` of each level.
        strides: ``(L, 2)`` float tensor of ``(stride_x, stride_y)`` in input
            pixels.
    """

    def __init__(self, sizes: Sequence[Tuple[int, int]], strides: Tensor) -> None:
        self.sizes = tuple((int(h), int(w)) for h, w in sizes)
        self.strides = strides
        self.device = strides.device

    @classmethod
    def from_levels(cls, levels: Sequence[Tensor], ctx: DistillContext) -> 'LevelGrid':
        """The grid of ``(B, C, H, W)`` levels; strides from ``ctx.input_size``."""
        sizes = [tuple(level.shape[-2:]) for level in levels]
        strides = [(stride_w, stride_h) for stride_h, stride_w in ctx.strides(sizes)]
        return cls(sizes, torch.tensor(strides, dtype=torch.float32, device=levels[0].device))

    @property
    def num_levels(self) -> int:
        return len(self.sizes)

    @cached_property
    def counts(self) -> List[int]:
        return [h * w for h, w in self.sizes]

    @property
    def num_locations(self) -> int:
        return sum(self.counts)

    @cached_property
    def heights(self) -> Tensor:
        return torch.tensor([h for h, _ in self.sizes], device=self.device)

    @cached_property
    def widths(self) -> Tensor:
        return torch.tensor([w for _, w in self.sizes], device=self.device)

    @cached_property
    def starts(self) -> Tensor:
        counts = self.heights * self.widths
        return counts.cumsum(0) - counts

    @cached_property
    def level_index(self) -> Tensor:
        """``(N,)`` level of each location."""
        return torch.repeat_interleave(
            torch.arange(self.num_levels, device=self.device), self.heights * self.widths)

    def flat_index(self, level: Tensor, x: Tensor, y: Tensor) -> Tensor:
        """Location index of column ``x``, row ``y`` of ``level`` (same shapes)."""
        return self.starts[level] + y * self.widths[level] + x

    def level_sum(self, flat: Tensor) -> Tensor:
        """``(B, N)`` -> ``(B, L)`` sums over each level's locations."""
        sums = flat.new_zeros(flat.shape[0], self.num_levels)
        return sums.index_add_(1, self.level_index, flat)

    def split(self, flat: Tensor) -> List[Tensor]:
        """``(B, N)`` -> one ``(B, 1, H_l, W_l)`` map per level."""
        return [part.reshape(flat.shape[0], 1, h, w)
                for part, (h, w) in zip(flat.split(self.counts, dim=1), self.sizes)]
