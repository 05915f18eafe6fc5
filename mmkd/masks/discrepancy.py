"""Discrepancy masks: where the teacher's and the student's detections disagree.

Both read the raw ``bbox_head`` outputs of the two detectors (recorded by the
hook) and parse them per prior with :func:`mmkd.head_outputs.pair_dense_outputs`
(class score times the score factor: YOLOX objectness, FCOS / ATSS centerness).
"""
from typing import List, Optional, Tuple

import torch
from torch import Tensor

from mmkd.context import DistillContext
from mmkd.head_outputs import DenseOutputs, pair_dense_outputs
from mmkd.registry import MODELS
from mmkd.utils.modules import find_module

from .base import SpatialMask
from .boxes import BoxSet, box_region_mask
from .grid import LevelGrid


class _HeadOutputsMask(SpatialMask):
    """A mask computed from both detectors' dense head outputs."""

    def __init__(self, head: str = 'bbox_head') -> None:
        super().__init__()
        self.head = head
        self.required_records = (head,)

    def head_outputs(self, ctx: DistillContext, grid: LevelGrid) -> Tuple[DenseOutputs, DenseOutputs]:
        """``(student, teacher)`` per-prior outputs, checked against the feature levels."""
        name = type(self).__name__
        student, teacher = pair_dense_outputs(
            find_module(ctx.student, self.head, f'{name}: head'), ctx.student_records[self.head],
            find_module(ctx.teacher, self.head, f'{name}: head'), ctx.teacher_records[self.head])
        if list(student.level_sizes) != list(grid.sizes):
            raise ValueError(
                f'{name}: the {self.head} predicts on levels of size '
                f'{list(student.level_sizes)} but the distilled features have sizes '
                f'{list(grid.sizes)}; distil the levels the head predicts on')
        return student, teacher


@MODELS.register_module()
class DiscrepancyMask(_HeadOutputsMask):
    """Dense per-location discrepancy of the two detectors' class scores.

    ``D_n = max_c |p_T(n, c) - p_S(n, c)|`` for prior ``n`` (the maximum over
    the anchors of a location for anchor heads), with ``p`` the detection
    scores (class probability times the score factor: YOLOX objectness, FCOS /
    ATSS centerness). Optionally only the ``topk`` largest locations of each
    image are kept, and each image's map is
    divided by its maximum (``normalize``), so the map lies in ``[0, 1]``.
    The dense form of GID's general-instance score (Dai et al., "General
    Instance Distillation for Object Detection", CVPR 2021).

    Args:
        normalize: divide each image's map by its maximum.
        topk: keep the ``topk`` largest locations per image (over all levels).
        head: attribute path and record key of the dense head.
    """

    def __init__(self, normalize: bool = False, topk: Optional[int] = None,
                 head: str = 'bbox_head') -> None:
        super().__init__(head)
        if topk is not None and topk < 1:
            raise ValueError(f'topk must be a positive integer, got {topk}')
        self.normalize = normalize
        self.topk = topk

    def flat(self, student: List[Tensor], teacher: List[Tensor], ctx: DistillContext,
             grid: LevelGrid) -> Tensor:
        student_out, teacher_out = self.head_outputs(ctx, grid)
        scores = (teacher_out.scores() - student_out.scores()).abs().amax(dim=-1)
        scores = scores.float().view(ctx.batch_size, grid.num_locations, -1).amax(dim=-1)
        if self.topk is not None and self.topk < grid.num_locations:
            top, index = scores.topk(self.topk, dim=1)
            scores = torch.zeros_like(scores).scatter_(1, index, top)
        if self.normalize:
            scores = scores / scores.amax(dim=1, keepdim=True).clamp(min=torch.finfo(scores.dtype).tiny)
        return scores


@MODELS.register_module()
class GIDMask(_HeadOutputsMask):
    """GID's general instances, as a binary mask of their regions.

    Per image and prior ``n``: the general-instance score
    ``s_n = max_c |p_T(n, c) - p_S(n, c)|`` and box ``B_n`` = the teacher's
    decoded box if ``max_c p_T(n, c) > max_c p_S(n, c)``, else the
    student's. Boxes are clipped to the input; greedy NMS at IoU
    ``iou_threshold`` keeps the ``topk`` best instances of each image, and the
    mask is 1 on the cells their boxes overlap.

    Dai et al., "General Instance Distillation for Object Detection", CVPR
    2021 (general instance selection module: NMS IoU 0.3, K = 10). GID
    imitates ROI-aligned instance features; here the instance regions mask the
    feature maps instead (use with ``MaskedFeatureLoss``).

    Only the ``topk`` first survivors of NMS are needed, so NMS runs as
    ``topk`` rounds over all images at once: each round keeps every image's
    best remaining candidate and drops the candidates overlapping it by more
    than ``iou_threshold``. This gives exactly the first ``topk`` boxes that
    per-image greedy NMS keeps (mmcv's ``nms``), without its CPU cost, which
    grows with the product of kept and candidate boxes. Only each image's
    ``nms_pre`` highest-scoring priors are candidates; the result equals NMS
    over all priors whenever ``topk`` boxes survive among them.

    Args:
        iou_threshold: NMS IoU threshold.
        topk: instances kept per image.
        nms_pre: candidates per image.
        head: attribute path and record key of the dense head.
    """

    def __init__(self, iou_threshold: float = 0.3, topk: int = 10, nms_pre: int = 1000,
                 head: str = 'bbox_head') -> None:
        super().__init__(head)
        if topk < 1 or nms_pre < topk:
            raise ValueError(f'need 1 <= topk <= nms_pre, got topk={topk}, nms_pre={nms_pre}')
        self.iou_threshold = iou_threshold
        self.topk = topk
        self.nms_pre = nms_pre

    def flat(self, student: List[Tensor], teacher: List[Tensor], ctx: DistillContext,
             grid: LevelGrid) -> Tensor:
        return box_region_mask(self.select(ctx, grid), grid)

    def select(self, ctx: DistillContext, grid: LevelGrid) -> BoxSet:
        """The ``(B, topk)`` selected general instances (``valid`` marks real ones)."""
        student_out, teacher_out = self.head_outputs(ctx, grid)
        student_scores, teacher_scores = student_out.scores().float(), teacher_out.scores().float()
        gi_scores = (teacher_scores - student_scores).abs().amax(dim=-1)
        from_teacher = teacher_scores.amax(dim=-1) > student_scores.amax(dim=-1)
        boxes = torch.where(from_teacher[..., None], teacher_out.decoded_boxes().float(),
                            student_out.decoded_boxes().float())
        _, order = gi_scores.topk(min(self.nms_pre, gi_scores.shape[1]), dim=1)
        candidates = BoxSet.clipped(boxes.gather(1, order[..., None].expand(-1, -1, 4)),
                                    torch.ones_like(order, dtype=torch.bool), ctx.input_size)
        return self._greedy_nms(candidates.boxes, ctx.input_size)

    def _greedy_nms(self, boxes: Tensor, input_size: Tuple[int, int]) -> BoxSet:
        """First ``topk`` survivors of greedy NMS over ``(B, n, 4)`` boxes sorted by score."""
        alive = torch.ones(boxes.shape[:2], dtype=torch.bool, device=boxes.device)
        images = torch.arange(boxes.shape[0], device=boxes.device)
        kept, found = [], []
        for _ in range(self.topk):
            best = alive.int().argmax(dim=1)  # first alive candidate = best remaining score
            found.append(alive[images, best])
            kept.append(boxes[images, best])
            alive &= ~(_iou(kept[-1][:, None], boxes) > self.iou_threshold)
            alive[images, best] = False
        return BoxSet.clipped(torch.stack(kept, dim=1), torch.stack(found, dim=1), input_size)


def _iou(box: Tensor, boxes: Tensor) -> Tensor:
    """IoU of ``(B, 1, 4)`` boxes with ``(B, n, 4)`` boxes (NaN for two empty boxes)."""
    low = torch.maximum(box[..., :2], boxes[..., :2])
    high = torch.minimum(box[..., 2:], boxes[..., 2:])
    inter = (high - low).clamp(min=0).prod(dim=-1)
    area = (box[..., 2:] - box[..., :2]).prod(dim=-1)
    areas = (boxes[..., 2:] - boxes[..., :2]).prod(dim=-1)
    return inter / (area + areas - inter)
