"""Discrepancy masks: where the teacher's and the student's detections disagree.

Both read the raw ``bbox_head`` outputs of the two detectors (recorded by the
hook) and parse them per prior with :func:`mmkd.heads.pair_dense_outputs`
(YOLOX: class score times objectness).
"""
from typing import List, Optional, Tuple

import torch
from mmcv.ops import batched_nms
from torch import Tensor

from mmkd.context import DistillContext
from mmkd.heads import DenseOutputs, pair_dense_outputs
from mmkd.registry import MODELS
from .base import SpatialMask, find_submodule
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
            find_submodule(ctx.student, self.head, name), ctx.student_records[self.head],
            find_submodule(ctx.teacher, self.head, name), ctx.teacher_records[self.head])
        if list(student.level_sizes) != list(grid.sizes):
            raise ValueError(
                f'{type(self).__name__}: the {self.head} predicts on levels of size '
                f'{list(student.level_sizes)} but the distilled features have sizes '
                f'{list(grid.sizes)}; distil the levels the head predicts on')
        return student, teacher


@MODELS.register_module()
class DiscrepancyMask(_HeadOutputsMask):
    """Dense per-location discrepancy of the two detectors' class scores.

    ``D_n = max_c |p_T(n, c) - p_S(n, c)|`` for prior ``n`` (the maximum over
    the anchors of a location for anchor heads), with ``p`` the class
    probabilities (YOLOX: class score times objectness). Optionally only the
    ``topk`` largest locations of each image are kept, and each image's map is
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
    student's. Boxes are clipped to the input, NMS at IoU ``iou_threshold``
    runs per image (one ``batched_nms`` call, the image index as the group),
    the ``topk`` best survivors of each image are kept, and the mask is 1 on
    the cells their boxes overlap.

    Dai et al., "General Instance Distillation for Object Detection", CVPR
    2021 (general instance selection module: NMS IoU 0.3, K = 10). GID
    imitates ROI-aligned instance features; here the instance regions mask the
    feature maps instead (use with ``MaskedFeatureLoss``).

    Only each image's ``nms_pre`` highest-scoring priors enter NMS; the
    result equals full NMS whenever ``topk`` boxes survive among them.

    Args:
        iou_threshold: NMS IoU threshold.
        topk: instances kept per image.
        nms_pre: candidates per image before NMS.
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
        everything = torch.ones_like(from_teacher)
        boxes = BoxSet.clipped(boxes, everything, ctx.input_size).boxes
        scores, index = gi_scores.topk(min(self.nms_pre, gi_scores.shape[1]), dim=1)
        boxes = boxes.gather(1, index[..., None].expand(-1, -1, 4))
        images = torch.arange(ctx.batch_size, device=scores.device)[:, None].expand_as(scores)
        _, keep = batched_nms(boxes.flatten(0, 1), scores.flatten(), images.flatten(),
                              dict(type='nms', iou_threshold=self.iou_threshold,
                                   split_thr=scores.numel() + 1))
        return self._top_per_image(boxes.flatten(0, 1)[keep], images.flatten()[keep], ctx)

    def _top_per_image(self, boxes: Tensor, images: Tensor, ctx: DistillContext) -> BoxSet:
        """Padded ``(B, topk)`` boxes from NMS survivors sorted by score (all images mixed)."""
        images, order = images.sort(stable=True)  # keeps each image's score order
        counts = torch.bincount(images, minlength=ctx.batch_size)
        rank = torch.arange(len(images), device=images.device) - (counts.cumsum(0) - counts)[images]
        chosen = rank < self.topk
        padded = boxes.new_zeros(ctx.batch_size, self.topk, 4)
        valid = torch.zeros(ctx.batch_size, self.topk, dtype=torch.bool, device=boxes.device)
        padded[images[chosen], rank[chosen]] = boxes[order[chosen]]
        valid[images[chosen], rank[chosen]] = True
        return BoxSet.clipped(padded, valid, ctx.input_size)
