"""Box regression distillation toward the teacher's decoded boxes."""
from typing import Optional, Sequence, Union

import torch
from mmdet.structures.bbox import bbox_overlaps
from torch import Tensor

from mmkd.registry import MODELS

from .base import DenseResponseLoss, ResponsePair, scatter_kept

IOU_MODES = ('iou', 'giou')


@MODELS.register_module()
class BoxKDLoss(DenseResponseLoss):
    r"""IoU and L1 distillation of decoded boxes, prior by prior.

    Student and teacher boxes are decoded on the shared priors with each
    head's own decoder (so the heads may encode boxes differently), then

    .. math::
        \ell_i = \lambda_{iou}\,\big(1 - \mathrm{GIoU}(b^S_i, b^T_i)\big)
               + \lambda_{l1}\,\frac{\lVert b^S_i - b^T_i \rVert_1}{4 s_i}

    with ``s_i`` the prior's stride (GIoU: Rezatofighi et al., CVPR 2019;
    ``iou_mode='iou'`` uses plain IoU). By default each prior is weighted by
    the teacher's score and only priors the teacher scores above
    ``score_thr`` take part: the teacher's confident boxes act as soft
    pseudo labels. ``weighting=('positive', 'teacher_score')`` with
    ``score_thr=0`` restricts it to GT-positive priors instead. With no prior
    kept the loss is a zero that still backpropagates. The (G)IoU term sees
    upright boxes (see :func:`_upright`).

    Args:
        iou_mode: ``'giou'`` or ``'iou'``.
        iou_weight: ``lambda_iou``.
        l1_weight: ``lambda_l1``.
        weighting, score_thr, center_radius, loss_weight: see
            :class:`DenseResponseLoss`.
    """

    def __init__(self,
                 iou_mode: str = 'giou',
                 iou_weight: float = 1.0,
                 l1_weight: float = 1.0,
                 weighting: Union[str, Sequence[str]] = 'teacher_score',
                 score_thr: float = 0.5,
                 center_radius: Optional[float] = 2.5,
                 loss_weight: float = 1.0) -> None:
        super().__init__(weighting, score_thr, center_radius, loss_weight)
        if iou_mode not in IOU_MODES:
            raise ValueError(f'iou_mode must be one of {IOU_MODES}, got {iou_mode!r}.')
        self.iou_mode = iou_mode
        self.iou_weight = iou_weight
        self.l1_weight = l1_weight

    def prior_losses(self, pair: ResponsePair, keep: Tensor) -> Tensor:
        student_boxes = pair.student.decoded_boxes(keep)
        teacher_boxes = pair.teacher.decoded_boxes(keep)
        iou = bbox_overlaps(_upright(student_boxes), _upright(teacher_boxes), mode=self.iou_mode,
                            is_aligned=True)
        strides = pair.student.strides.expand_as(keep)[keep]
        l1 = (student_boxes - teacher_boxes).abs().mean(-1) / strides
        return scatter_kept(self.iou_weight * (1 - iou) + self.l1_weight * l1, keep)


def _upright(boxes: Tensor) -> Tensor:
    """Boxes with ``x2 >= x1`` and ``y2 >= y1``. Distance heads without ``exp``
    (RTMDet with ``exp_on_reg=False``) can decode inverted boxes, whose
    negative areas would send (G)IoU far outside ``[-1, 1]``; the L1 term still
    pulls the raw corners toward the teacher's."""
    top_left = boxes[..., :2]
    return torch.cat([top_left, torch.maximum(boxes[..., 2:], top_left)], -1)
