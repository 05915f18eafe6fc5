"""Ground-truth regions over the priors of a dense head (batched, no loops)."""
from typing import NamedTuple, Optional

import torch
from mmdet.structures.bbox import bbox_overlaps
from torch import Tensor

from mmkd.context import PaddedGroundTruth


class CentreAssignment(NamedTuple):
    """Priors assigned to ground truth by centre sampling.

    Attributes:
        positive: ``(B, N)`` True where the prior centre lies in a GT box
            (and within its centre region when a radius is given).
        labels: ``(B, N)`` class of the assigned GT, ``-1`` on negatives.
    """
    positive: Tensor
    labels: Tensor


def assign_by_centre(centers: Tensor, strides: Tensor, gt: PaddedGroundTruth,
                     center_radius: Optional[float] = 2.5) -> CentreAssignment:
    """Assign each prior to the smallest GT box containing its centre.

    Args:
        centers: ``(N, 2)`` prior centres in input pixels.
        strides: ``(N,)`` stride of each prior's level.
        gt: padded ground truth of the batch.
        center_radius: when set, a prior must also lie within
            ``center_radius * stride`` of the box centre on both axes (the
            YOLOX centre region); ``None`` uses the whole box.
    """
    batch, num_priors = gt.bboxes.shape[0], centers.shape[0]
    if gt.bboxes.shape[1] == 0:
        positive = centers.new_zeros(batch, num_priors, dtype=torch.bool)
        return CentreAssignment(positive, positive.long() - 1)
    x, y = centers[None, :, None, 0], centers[None, :, None, 1]  # (1, N, 1)
    x1, y1, x2, y2 = gt.bboxes[:, None].unbind(-1)  # (B, 1, M)
    inside = (x > x1) & (x < x2) & (y > y1) & (y < y2) & gt.valid[:, None]
    if center_radius is not None:
        radius = center_radius * strides[None, :, None]
        inside &= ((x - (x1 + x2) / 2).abs() < radius) & ((y - (y1 + y2) / 2).abs() < radius)
    areas = ((x2 - x1) * (y2 - y1)).expand_as(inside).masked_fill(~inside, float('inf'))
    gt_index = areas.argmin(-1)
    positive = inside.any(-1)
    labels = gt.labels.gather(1, gt_index).masked_fill(~positive, -1)
    return CentreAssignment(positive, labels)


def pairwise_diou(priors: Tensor, gt: PaddedGroundTruth) -> Tensor:
    """``(B, N, M)`` Distance-IoU between ``(N, 4)`` prior boxes and GT boxes.

    ``DIoU = IoU - rho^2 / c^2`` with ``rho`` the distance between the box
    centres and ``c`` the diagonal of their enclosing box (Zheng et al.,
    AAAI 2020). Padding GT entries get ``-1``.
    """
    gt_boxes = gt.bboxes
    boxes = priors[None].expand(gt_boxes.shape[0], -1, -1)
    iou = bbox_overlaps(boxes, gt_boxes)
    p, g = boxes[:, :, None], gt_boxes[:, None]  # (B, N, 1, 4), (B, 1, M, 4)
    centre_dist = ((p[..., :2] + p[..., 2:] - g[..., :2] - g[..., 2:]) / 2).pow(2).sum(-1)
    enclose = torch.max(p[..., 2:], g[..., 2:]) - torch.min(p[..., :2], g[..., :2])
    diou = iou - centre_dist / enclose.pow(2).sum(-1).clamp(min=1e-6)
    return diou.masked_fill(~gt.valid[:, None], -1.0)
