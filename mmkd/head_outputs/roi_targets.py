"""Ground truth of RoIs by IoU, batched over the whole batch's RoIs."""
from typing import NamedTuple

import torch
from mmdet.structures.bbox import bbox_overlaps
from torch import Tensor

from mmkd.context import PaddedGroundTruth


class RoIAssignment(NamedTuple):
    """Each RoI's best-overlapping GT box of its own image.

    Attributes:
        positive: ``(R,)`` True where that IoU is at least the threshold.
        labels: ``(R,)`` class of the matched GT, ``-1`` on negatives.
        gt_boxes: ``(R, 4)`` matched GT box on positives, the RoI itself on
            negatives (so any regression target encoded there is finite).
    """
    positive: Tensor
    labels: Tensor
    gt_boxes: Tensor


def assign_rois(rois: Tensor, gt: PaddedGroundTruth, pos_iou_thr: float) -> RoIAssignment:
    """Match ``(R, 5)`` RoIs ``(image, x1, y1, x2, y2)`` to GT by max IoU.

    With ``pos_iou_thr`` equal to the R-CNN assigner's ``pos_iou_thr`` and
    ``match_low_quality=False`` (mmdet's Faster / Mask R-CNN ``rcnn``
    settings) this gives the positives and classes of ``MaxIoUAssigner``.
    """
    image, boxes = rois[:, 0].long(), rois[:, 1:].float()
    num_rois = rois.shape[0]
    if gt.bboxes.shape[1] == 0:
        positive = torch.zeros(num_rois, dtype=torch.bool, device=rois.device)
        return RoIAssignment(positive, positive.long() - 1, boxes)
    gt_boxes = gt.bboxes[image]  # (R, M, 4): the GT of each RoI's image
    iou = bbox_overlaps(boxes[:, None], gt_boxes)[:, 0].masked_fill(~gt.valid[image], -1.0)
    best_iou, best = iou.max(-1)
    positive = best_iou >= pos_iou_thr
    labels = gt.labels[image, best].masked_fill(~positive, -1)
    matched = gt_boxes[torch.arange(num_rois, device=rois.device), best]
    return RoIAssignment(positive, labels, torch.where(positive[:, None], matched, boxes))
