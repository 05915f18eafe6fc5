"""Masks for RoI-level features of two-stage detectors (one weight per RoI)."""
from typing import List

import torch
from torch import Tensor

from mmkd.context import DistillContext
from mmkd.head_outputs import assign_rois
from mmkd.recorders.roi_branches import ROI_BRANCHES, rois_key
from mmkd.registry import MODELS

from .base import BaseMask


@MODELS.register_module()
class RoIForegroundMask(BaseMask):
    """Weights RoI features by whether their RoI covers an object.

    For RoI features ``(R, C, h, w)`` (the output of a two-stage detector's
    ``roi_head.bbox_roi_extractor`` or ``mask_roi_extractor``, which the
    hook pairs row by row between student and teacher), RoI ``r`` gets::

        W_r = fg_weight   if max IoU(RoI_r, GT boxes of its image) >= pos_iou_thr
        W_r = bg_weight   otherwise

    as a ``(R, 1, 1, 1)`` weight, so ``MaskedFeatureLoss`` with
    ``normalize='mask'`` averages the imitation over the foreground RoIs (FGFI's
    object-region imitation on RoI features, Wang et al., CVPR 2019; the
    foreground / background split of DeFeat, Guo et al., CVPR 2021, with
    ``bg_weight > 0``). ``pos_iou_thr=0.5`` is mmdet's R-CNN assigner's
    ``pos_iou_thr`` in Faster / Mask R-CNN; spatial masks (GT-box cells,
    FGD's scale mask) do not apply to RoI features, which have no stride.

    Args:
        branch: ``'bbox'`` or ``'mask'``: whose RoIs the features were pooled on.
        pos_iou_thr: IoU at which an RoI counts as foreground.
        fg_weight: weight of foreground RoIs.
        bg_weight: weight of the other RoIs.
    """

    def __init__(self, branch: str = 'bbox', pos_iou_thr: float = 0.5, fg_weight: float = 1.0,
                 bg_weight: float = 0.0) -> None:
        super().__init__()
        if branch not in ROI_BRANCHES:
            raise ValueError(f'branch must be one of {ROI_BRANCHES}, got "{branch}"')
        self.branch = branch
        self.pos_iou_thr = pos_iou_thr
        self.fg_weight = fg_weight
        self.bg_weight = bg_weight

    def compute(self, student: List[Tensor], teacher: List[Tensor], ctx: DistillContext) -> List[Tensor]:
        key = rois_key(self.branch)
        if key not in ctx.student_records:
            raise KeyError(f'RoIForegroundMask(branch="{self.branch}") needs RoI features: record '
                           f'roi_head.{self.branch}_roi_extractor (or a module of that branch)')
        rois = ctx.student_records[key]
        positive = assign_rois(rois, ctx.ground_truth, self.pos_iou_thr).positive
        weights = torch.where(positive, self.fg_weight, self.bg_weight).to(teacher[0].dtype)
        return [weights.view(-1, 1, 1, 1) for _ in teacher]
