"""GID's instance relation distillation."""
from typing import List

import torch
import torch.nn.functional as F
from mmcv.ops import roi_align
from torch import Tensor

from mmkd.context import DistillContext
from mmkd.registry import MODELS

from ..base import DistillLoss
from .functional import normalised_distances, roi_levels


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
