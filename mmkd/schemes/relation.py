"""Relation-based distillation: the student matches how features relate to each other.

Relations (distances or similarities between instances, pixels or images)
do not depend on the feature width, so teacher and student may differ in
channels; with ``adapter='auto'`` a narrower student still gets a 1x1
adapter, which here acts as a learnt embedding.
"""
from typing import List, Tuple

import torch
import torch.nn.functional as F
from mmcv.ops import roi_align
from torch import Tensor

from mmkd.context import DistillContext
from mmkd.losses.base import DistillLoss
from mmkd.registry import MODELS


def pairwise_distances(embeddings: Tensor) -> Tensor:
    """``(G, M, M)`` Euclidean distances within each group of ``(G, M, D)`` embeddings.

    Computed from the Gram matrix and clamped before the square root, so the
    gradient stays finite on the zero diagonal.
    """
    squared = embeddings.pow(2).sum(-1)
    gram = embeddings @ embeddings.transpose(1, 2)
    return (squared[:, :, None] + squared[:, None, :] - 2 * gram).clamp(min=1e-12).sqrt()


def normalised_distances(embeddings: Tensor, valid: Tensor) -> Tuple[Tensor, Tensor]:
    """RKD distance potential ``psi(i, j) = ||f_i - f_j|| / mu`` per group.

    ``mu`` is the mean distance over the valid pairs ``i != j`` of the group.

    Returns:
        ``(psi, pairs)``: ``(G, M, M)`` normalised distances and the mask of
        valid pairs.
    """
    distances = pairwise_distances(embeddings)
    eye = torch.eye(valid.shape[1], dtype=torch.bool, device=valid.device)
    pairs = valid[:, :, None] & valid[:, None, :] & ~eye
    mean = (distances * pairs).sum((1, 2)) / pairs.sum((1, 2)).clamp(min=1)
    return distances / mean.clamp(min=1e-12)[:, None, None], pairs


def roi_levels(boxes: Tensor, num_levels: int, finest_scale: float) -> Tensor:
    """FPN level of each ``(N, 4)`` box: ``floor(log2(sqrt(wh) / finest_scale))``, clamped.

    The rule of mmdet's ``SingleRoIExtractor.map_roi_levels``.
    """
    scale = ((boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])).clamp(min=0).sqrt()
    return torch.floor(torch.log2(scale / finest_scale + 1e-6)).clamp(0, num_levels - 1).long()


@MODELS.register_module()
class InstanceRelationLoss(DistillLoss):
    """GID instance relation: normalised pairwise distances of GT instances.

    Each GT box is RoI-aligned (``mmcv.ops.roi_align``) on its FPN level into
    an embedding ``f_i``; within each group (an image, or the whole batch)::

        psi(i, j) = ||f_i - f_j||_2 / mu,   mu = mean_{i != j} ||f_i - f_j||_2
        L = loss_weight * mean_{i != j} SmoothL1(psi_S(i, j) - psi_T(i, j))

    Dai et al., "General Instance Distillation for Object Detection", CVPR
    2021; Park et al., "Relational Knowledge Distillation", CVPR 2019.

    Args:
        roi_size: ``(h, w)`` (or one int) of the RoI-aligned grid.
        finest_scale: box scale mapped to the first level (mmdet's rule).
        scope: ``'image'`` (relations within each image, as GID) or
            ``'batch'`` (between all instances of the batch).
        beta: Smooth-L1 threshold.
        loss_weight: multiplier of the loss.
    """

    def __init__(self, roi_size: int = 7, finest_scale: float = 56.0, scope: str = 'image', beta: float = 1.0,
                 loss_weight: float = 1.0) -> None:
        super().__init__(loss_weight)
        if scope not in ('image', 'batch'):
            raise ValueError(f'scope must be "image" or "batch", got "{scope}"')
        self.roi_size = roi_size
        self.finest_scale = finest_scale
        self.scope = scope
        self.beta = beta

    def forward(self, student: List[Tensor], teacher: List[Tensor], ctx: DistillContext) -> Tensor:
        gt = ctx.ground_truth
        batch, most = gt.valid.shape
        boxes = gt.bboxes.reshape(-1, 4)
        rois = torch.cat([torch.arange(batch, device=boxes.device).repeat_interleave(most)[:, None].float(),
                          boxes], dim=1)
        levels = roi_levels(boxes, len(teacher), self.finest_scale)
        strides = [stride_w for _, stride_w in ctx.strides([level.shape[-2:] for level in teacher])]
        groups = (batch, most) if self.scope == 'image' else (1, batch * most)
        valid = gt.valid.reshape(groups)
        embed_s = self._embed(student, rois, levels, strides)
        embed_t = self._embed(teacher, rois, levels, strides)
        psi_s, pairs = normalised_distances(embed_s.view(*groups, embed_s.shape[-1]), valid)
        psi_t, _ = normalised_distances(embed_t.view(*groups, embed_t.shape[-1]), valid)
        error = F.smooth_l1_loss(psi_s, psi_t, beta=self.beta, reduction='none')
        return self.loss_weight * (error * pairs).sum() / pairs.sum().clamp(min=1)

    def _embed(self, levels_feats: List[Tensor], rois: Tensor, levels: Tensor, strides: List[float]) -> Tensor:
        """``(N, C * h * w)`` RoI features, each from its box's level."""
        pooled = torch.stack([roi_align(feat.float(), rois, self.roi_size, 1.0 / stride, 0, 'avg', True)
                              for feat, stride in zip(levels_feats, strides)])
        return pooled[levels, torch.arange(rois.shape[0], device=rois.device)].flatten(1)


@MODELS.register_module()
class PixelRelationLoss(DistillLoss):
    """Pair-wise distillation: cosine similarities between the cells of each image.

    Each level is average-pooled to a ``grid`` of cells ``f_i`` (channels
    L2-normalised); ``a_ij = f_i . f_j`` and::

        L = loss_weight * sum_l mean_{b, i, j} (a^S_ij - a^T_ij)^2

    Liu et al., "Structured Knowledge Distillation for Semantic
    Segmentation", CVPR 2019 (pair-wise distillation).

    Args:
        grid: ``(h, w)`` (or one int) cells per level; the cost is
            ``(h * w)^2`` per image and level.
        loss_weight: multiplier of the loss.
    """

    def __init__(self, grid: int = 8, loss_weight: float = 1.0) -> None:
        super().__init__(loss_weight)
        self.grid = grid

    def forward(self, student: List[Tensor], teacher: List[Tensor], ctx: DistillContext) -> Tensor:
        return self.loss_weight * sum((self._affinity(s) - self._affinity(t)).pow(2).mean()
                                      for s, t in zip(student, teacher))

    def _affinity(self, feat: Tensor) -> Tensor:
        cells = F.normalize(F.adaptive_avg_pool2d(feat.float(), self.grid).flatten(2), dim=1)  # (B, C, N)
        return cells.transpose(1, 2) @ cells


@MODELS.register_module()
class SimilarityPreservingLoss(DistillLoss):
    """Similarity-preserving KD: images of a batch relate alike in both models.

    ``G = row_normalise(Q Q^T)`` with ``Q`` the ``(B, C*H*W)`` flattened level;
    ``L = loss_weight * sum_l ||G_S - G_T||_F^2 / B^2``.

    Tung & Mori, "Similarity-Preserving Knowledge Distillation", ICCV 2019.

    Args:
        loss_weight: multiplier of the loss.
    """

    def forward(self, student: List[Tensor], teacher: List[Tensor], ctx: DistillContext) -> Tensor:
        return self.loss_weight * sum((self._gram(s) - self._gram(t)).pow(2).sum() / s.shape[0] ** 2
                                      for s, t in zip(student, teacher))

    @staticmethod
    def _gram(feat: Tensor) -> Tensor:
        flat = feat.float().flatten(1)
        return F.normalize(flat @ flat.t(), dim=1)
