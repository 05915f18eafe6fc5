"""Distillation of a two-stage detector's RoI box head on the student's RoIs."""
from typing import Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mmkd.context import DistillContext
from mmkd.head_outputs import assign_rois
from mmkd.losses.base import DistillLoss
from mmkd.recorders import RecordKey
from mmkd.recorders.roi_branches import rois_key
from mmkd.registry import MODELS

from .base import check_temperature

ROI_BOX_HEAD = 'roi_head.bbox_head'


@MODELS.register_module()
class RoIKDLoss(DistillLoss):
    r"""Knowledge distillation of the R-CNN box head (Chen et al., "Learning
    Efficient Object Detection Models with Knowledge Distillation", NeurIPS
    2017), on the entry ``student='roi_head.bbox_head',
    teacher='roi_head.bbox_head'``.

    The teacher's box head runs on the student's sampled RoIs (the hook
    reruns its RoI extractor on them), so row ``r`` of both outputs is the
    same RoI. Over the ``R`` RoIs of the batch, with ``K`` classes plus
    background (mmdet's last class), ``p = softmax(z / T)``:

    .. math::
        \mathcal{L} = \lambda \Big(
            -\frac{\lambda_{cls}}{R} \sum_r T^2 \sum_{c=0}^{K} w_c\, p^T_{rc} \log p^S_{rc}
          + \frac{\lambda_{reg}}{R} \sum_{r \in P} e^S_r\,
                [\, e^S_r + m > e^T_r \,] \Big),
        \quad e_r = \lVert \delta_r - y_r \rVert_2^2

    The first term is the paper's class-weighted soft cross-entropy, with
    ``w_c = 1`` for objects and ``w_bg`` for background (the weights move its
    minimum from ``p^S = p^T`` toward ``p^S ~ w p^T``: more background mass);
    it equals the weighted teacher entropy, not zero, when the student
    matches. ``T^2`` keeps the gradient scale independent of ``T`` (Hinton et
    al., 2015). The second is the paper's teacher-bounded
    regression loss: ``P`` are the RoIs whose IoU with a GT box of their
    image is at least ``pos_iou_thr``, ``y_r`` the box head's regression
    target to that box (its own ``bbox_coder``), ``delta_r`` the predicted
    deltas of the GT class; the student pays its L2 error only while it is
    not better than the teacher by the margin ``m``. Both sums are divided by
    ``R``, as mmdet divides the R-CNN box loss by the number of sampled RoIs.
    The student's own hard losses stay as they are.

    Defaults: ``w_bg = 1.5``, ``lambda_cls = 1 - mu = 0.5`` and
    ``lambda_reg = nu = 0.5`` are the paper's settings (``mu = nu = 0.5``);
    ``T = 1`` and ``m = 0`` are this implementation's choice (no softening,
    bounded by the teacher's error itself); ``pos_iou_thr = 0.5`` is mmdet's
    Faster / Mask R-CNN ``train_cfg.rcnn.assigner.pos_iou_thr``.

    Args:
        temperature: ``T``.
        background_weight: ``w_bg``.
        cls_weight: ``lambda_cls``.
        reg_weight: ``lambda_reg``.
        margin: ``m``, in squared normalised deltas.
        pos_iou_thr: IoU of a positive RoI.
        loss_weight: ``lambda``.
    """
    compares_classes = True

    def __init__(self,
                 temperature: float = 1.0,
                 background_weight: float = 1.5,
                 cls_weight: float = 0.5,
                 reg_weight: float = 0.5,
                 margin: float = 0.0,
                 pos_iou_thr: float = 0.5,
                 loss_weight: float = 1.0) -> None:
        super().__init__(loss_weight)
        self.temperature = check_temperature(temperature)
        self.background_weight = background_weight
        self.cls_weight = cls_weight
        self.reg_weight = reg_weight
        self.margin = margin
        self.pos_iou_thr = pos_iou_thr

    def bind(self, student: RecordKey, teacher: RecordKey, config_key: str) -> None:
        if str(student) != ROI_BOX_HEAD or str(teacher) != ROI_BOX_HEAD:
            raise ValueError(f'{config_key}: RoIKDLoss distils the R-CNN box head; set '
                             f'student="{ROI_BOX_HEAD}" and teacher="{ROI_BOX_HEAD}" (got {student}, {teacher})')
        super().bind(student, teacher, config_key)

    def forward(self, student: Sequence[Tensor], teacher: Sequence[Tensor], ctx: DistillContext) -> Tensor:
        heads = ctx.student.get_submodule(self.student_path), ctx.teacher.get_submodule(self.teacher_path)
        (student_cls, student_reg), (teacher_cls, teacher_reg) = _checked_outputs(student, teacher, *heads)
        rois = ctx.student_records[rois_key('bbox')]
        num_rois = max(rois.shape[0], 1)
        cls = self._soft_loss(student_cls, teacher_cls).sum() / num_rois
        reg = self._bounded_loss(rois, ctx, student_reg, teacher_reg, *heads).sum() / num_rois
        return self.loss_weight * (self.cls_weight * cls + self.reg_weight * reg)

    def _soft_loss(self, student: Tensor, teacher: Tensor) -> Tensor:
        """``(R,)`` class-weighted soft cross-entropy ``-T^2 sum_c w_c p^T_c log p^S_c``."""
        weights = student.new_ones(student.shape[-1])
        weights[-1] = self.background_weight
        teacher_probs = F.softmax(teacher / self.temperature, -1)
        student_log = F.log_softmax(student / self.temperature, -1)
        return -(weights * teacher_probs * student_log).sum(-1) * self.temperature**2

    def _bounded_loss(self, rois: Tensor, ctx: DistillContext, student: Tensor, teacher: Tensor,
                      student_head: nn.Module, teacher_head: nn.Module) -> Tensor:
        """``(R,)`` student L2 error on positives where it is not ``margin`` better than the teacher's."""
        assignment = assign_rois(rois, ctx.ground_truth, self.pos_iou_thr)
        targets = student_head.bbox_coder.encode(rois[:, 1:].float(), assignment.gt_boxes).float()
        student_error = (_class_deltas(student, assignment.labels) - targets).pow(2).sum(-1)
        teacher_error = (_class_deltas(teacher, assignment.labels) - targets).pow(2).sum(-1)
        bounded = assignment.positive & (student_error + self.margin > teacher_error)
        return student_error * bounded


def _checked_outputs(student: Sequence[Tensor], teacher: Sequence[Tensor], student_head: nn.Module,
                     teacher_head: nn.Module) -> Tuple[Tuple[Tensor, Tensor], Tuple[Tensor, Tensor]]:
    """fp32 ``(cls_score, bbox_pred)`` of both heads, refused unless they pair."""
    student_cls, student_reg = (t.float() for t in student)
    teacher_cls, teacher_reg = (t.float() for t in teacher)
    if student_cls.shape != teacher_cls.shape or student_cls.shape[-1] != student_head.num_classes + 1:
        raise ValueError(
            f'RoIKDLoss pairs softmax classifiers with a background class over the same RoIs, got student '
            f'cls_score {tuple(student_cls.shape)} (num_classes={student_head.num_classes}) and teacher '
            f'{tuple(teacher_cls.shape)} (num_classes={teacher_head.num_classes}); use teacher and student '
            'box heads with the same num_classes and loss_cls use_sigmoid=False')
    coders = student_head.bbox_coder, teacher_head.bbox_coder
    if type(coders[0]) is not type(coders[1]) or vars(coders[0]) != vars(coders[1]):
        raise ValueError(f'RoIKDLoss compares regression errors of both heads in one unit, but their bbox_coder '
                         f'settings differ ({vars(coders[0])} vs {vars(coders[1])}); give both the same bbox_coder')
    return (student_cls, student_reg), (teacher_cls, teacher_reg)


def _class_deltas(deltas: Tensor, labels: Tensor) -> Tensor:
    """``(R, 4)`` deltas of each RoI's class (column 0 of a class-agnostic head)."""
    per_class = deltas.reshape(deltas.shape[0], -1, 4)
    index = labels.clamp(min=0) if per_class.shape[1] > 1 else torch.zeros_like(labels)
    return per_class.gather(1, index[:, None, None].expand(-1, 1, 4))[:, 0]
