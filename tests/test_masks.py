"""Tests of mmkd.masks against hand-computed values and slow per-box loop references.

The ``loop_*`` functions are the straightforward references (one box, image
and level at a time); ``benchmarks/feature_kd.py`` times the masks against them.
"""
import math
from typing import List, Optional, Sequence

import pytest
import torch
from mmcv.ops import nms
from mmdet.models.dense_heads import YOLOXHead
from mmdet.models.task_modules.prior_generators import AnchorGenerator
from torch import Tensor, nn
from utils import distill_context

from mmkd.context import DistillContext
from mmkd.head_outputs import parse_dense_outputs
from mmkd.masks import (
    AnchorIoUMask,
    ChannelAttentionMask,
    DecoupledMask,
    DiscrepancyMask,
    GIDMask,
    GTBoxMask,
    LevelGrid,
    PriorInBoxMask,
    ScaleAwareMask,
    SpatialAttentionMask,
    build_mask,
)

# ----------------------------------------------------------------------------- helpers


def levels(batch: int, size: int, strides: Sequence[int], channels: int = 1) -> List[Tensor]:
    return [torch.randn(batch, channels, size // s, size // s) for s in strides]


def random_boxes(batch: int, count: int, size: int, generator: torch.Generator) -> Tensor:
    """Boxes of every kind, some partly or wholly outside the image, some of zero area."""
    centre = torch.rand(batch, count, 2, generator=generator) * size * 1.2 - 0.1 * size
    half = torch.rand(batch, count, 2, generator=generator) * size / 4
    half[:, ::7] = 0  # zero-area boxes
    return torch.cat([centre - half, centre + half], dim=-1)


def flat(maps: Sequence[Tensor]) -> Tensor:
    return torch.cat([m.flatten(1) for m in maps], dim=1)


def detector(head: nn.Module) -> nn.Module:
    model = nn.Module()
    model.bbox_head = head
    return model


def clip(box: Tensor, size: int) -> Optional[Tensor]:
    box = box.clamp(0, size)
    return box if box[2] > box[0] and box[3] > box[1] else None


def cells_overlapping(box: Tensor, height: int, width: int, stride: float) -> Tensor:
    """``(H, W)`` bool: cells whose area overlaps the box."""
    cols = torch.arange(width) * stride
    rows = torch.arange(height) * stride
    in_x = (cols < box[2]) & (cols + stride > box[0])
    in_y = (rows < box[3]) & (rows + stride > box[1])
    return in_y[:, None] & in_x[None, :]


def priors_inside(low: Tensor, high: Tensor, height: int, width: int, stride: float,
                  offset: float) -> Tensor:
    """``(H, W)`` bool: cells whose prior lies strictly inside ``(low, high)``."""
    xs = (torch.arange(width) + offset) * stride
    ys = (torch.arange(height) + offset) * stride
    return (((ys > low[1]) & (ys < high[1]))[:, None]) & (((xs > low[0]) & (xs < high[0]))[None, :])


# ----------------------------------------------------------------------------- references
def loop_gt_box_mask(ctx: DistillContext, sizes: Sequence[tuple]) -> List[Tensor]:
    size = ctx.input_size[0]
    out = [torch.zeros(ctx.batch_size, 1, h, w) for h, w in sizes]
    for b, sample in enumerate(ctx.data_samples):
        for box in sample.gt_instances.bboxes:
            box = clip(box, size)
            if box is None:
                continue
            for level, (h, w) in enumerate(sizes):
                out[level][b, 0][cells_overlapping(box, h, w, size / h)] = 1
    return out


def loop_prior_mask(ctx: DistillContext, sizes: Sequence[tuple], offset: float = 0.5,
                    radius: Optional[float] = None) -> List[Tensor]:
    size = ctx.input_size[0]
    out = [torch.zeros(ctx.batch_size, 1, h, w) for h, w in sizes]
    for b, sample in enumerate(ctx.data_samples):
        for box in sample.gt_instances.bboxes:
            box = clip(box, size)
            if box is None:
                continue
            for level, (h, w) in enumerate(sizes):
                stride = size / h
                region = priors_inside(box[:2], box[2:], h, w, stride, offset)
                if radius is not None:
                    centre = (box[:2] + box[2:]) / 2
                    region |= priors_inside(centre - radius * stride, centre + radius * stride,
                                            h, w, stride, offset)
                out[level][b, 0][region] = 1
    return out


def loop_scale_mask(ctx: DistillContext, sizes: Sequence[tuple], fg_weight: float,
                    bg_weight: float) -> List[Tensor]:
    size = ctx.input_size[0]
    out = []
    for h, w in sizes:
        level = torch.zeros(ctx.batch_size, 1, h, w)
        for b, sample in enumerate(ctx.data_samples):
            fg = torch.zeros(h, w)
            for box in sample.gt_instances.bboxes:
                box = clip(box, size)
                if box is None:
                    continue
                region = cells_overlapping(box, h, w, size / h)
                fg[region] = torch.clamp(fg[region], min=1.0 / region.sum().item())
            bg = (fg == 0).float()
            level[b, 0] = fg_weight * fg + bg_weight * bg / max(bg.sum().item(), 1.0)
        out.append(level)
    return out


def loop_decoupled_mask(ctx: DistillContext, sizes: Sequence[tuple], fg_weight: float,
                        bg_weight: float) -> List[Tensor]:
    out = []
    for fg in loop_gt_box_mask(ctx, sizes):
        bg = 1 - fg
        out.append(fg_weight * fg / (2 * max(fg.sum().item(), 1.0))
                   + bg_weight * bg / (2 * max(bg.sum().item(), 1.0)))
    return out


def box_iou(anchors: Tensor, box: Tensor) -> Tensor:
    low = torch.maximum(anchors[:, :2], box[:2])
    high = torch.minimum(anchors[:, 2:], box[2:])
    inter = (high - low).clamp(min=0).prod(dim=1)
    areas = (anchors[:, 2:] - anchors[:, :2]).prod(dim=1)
    return inter / (areas + (box[2:] - box[:2]).prod() - inter)


def loop_fgfi_mask(ctx: DistillContext, sizes: Sequence[tuple], generator: AnchorGenerator,
                   psi: float = 0.5) -> List[Tensor]:
    size = ctx.input_size[0]
    anchors = generator.grid_priors(sizes, device='cpu')
    per_location = generator.num_base_priors
    out = [torch.zeros(ctx.batch_size, 1, h, w) for h, w in sizes]
    for b, sample in enumerate(ctx.data_samples):
        for box in sample.gt_instances.bboxes:
            box = clip(box, size)
            if box is None:
                continue
            ious = [box_iou(level_anchors, box) for level_anchors in anchors]
            best = max(iou.max() for iou in ious)
            if best <= 0:
                continue
            for level, ((h, w), iou) in enumerate(zip(sizes, ious)):
                hit = (iou > psi * best).view(h * w, per_location[level]).any(dim=1)
                out[level][b, 0].view(-1)[hit] = 1
    return out


def loop_discrepancy_mask(ctx: DistillContext, normalize: bool, topk: Optional[int]) -> Tensor:
    student = parse_dense_outputs(ctx.student.bbox_head, ctx.student_records['bbox_head'])
    teacher = parse_dense_outputs(ctx.teacher.bbox_head, ctx.teacher_records['bbox_head'])
    student_scores, teacher_scores = student.scores(), teacher.scores()
    out = []
    for b in range(ctx.batch_size):
        score = (teacher_scores[b] - student_scores[b]).abs().max(dim=1).values
        if topk is not None:
            kept = torch.zeros_like(score)
            order = score.argsort(descending=True)[:topk]
            kept[order] = score[order]
            score = kept
        if normalize:
            score = score / score.max()
        out.append(score)
    return torch.stack(out)


def loop_gid_mask(ctx: DistillContext, sizes: Sequence[tuple], iou_threshold: float,
                  topk: int, nms_pre: int) -> List[Tensor]:
    size = ctx.input_size[0]
    student = parse_dense_outputs(ctx.student.bbox_head, ctx.student_records['bbox_head'])
    teacher = parse_dense_outputs(ctx.teacher.bbox_head, ctx.teacher_records['bbox_head'])
    student_scores, teacher_scores = student.scores(), teacher.scores()
    student_boxes, teacher_boxes = student.decoded_boxes(), teacher.decoded_boxes()
    out = [torch.zeros(ctx.batch_size, 1, h, w) for h, w in sizes]
    for b in range(ctx.batch_size):
        p_s, p_t = student_scores[b], teacher_scores[b]
        scores = (p_t - p_s).abs().max(dim=1).values
        use_teacher = p_t.max(dim=1).values > p_s.max(dim=1).values
        boxes = torch.where(use_teacher[:, None], teacher_boxes[b], student_boxes[b])
        boxes = boxes.clamp(0, size)
        order = scores.argsort(descending=True)[:nms_pre]
        _, keep = nms(boxes[order], scores[order], iou_threshold)
        for box in boxes[order][keep[:topk]]:
            if box[2] <= box[0] or box[3] <= box[1]:
                continue
            for level, (h, w) in enumerate(sizes):
                out[level][b, 0][cells_overlapping(box, h, w, size / h)] = 1
    return out


# ----------------------------------------------------------------------------- hand-computed
BOX = [8.0, 8.0, 20.0, 16.0]  # on a 32 x 32 input, 4 x 4 level of stride 8


def test_gt_box_mask_by_hand():
    ctx = distill_context([[BOX]])
    mask = GTBoxMask()(levels(1, 32, [8]), levels(1, 32, [8]), ctx)[0]
    expected = torch.zeros(1, 1, 4, 4)
    expected[0, 0, 1, 1:3] = 1  # x cells [8, 16) and [16, 24); y cell [8, 16) only
    assert torch.equal(mask, expected)


def test_prior_in_box_mask_by_hand():
    ctx = distill_context([[BOX]])
    feats = levels(1, 32, [8])
    inside = PriorInBoxMask()(feats, feats, ctx)[0]
    expected = torch.zeros(1, 1, 4, 4)
    expected[0, 0, 1, 1] = 1  # centre (12, 12); (20, 12) lies on the box edge, not inside
    assert torch.equal(inside, expected)
    widened = PriorInBoxMask(center_radius=1.0)(feats, feats, ctx)[0]
    expected[0, 0, 1, 2] = 1  # centre region (6, 22) x (4, 20) takes (20, 12)
    assert torch.equal(widened, expected)


def test_scale_aware_mask_by_hand():
    ctx = distill_context([[BOX], []])
    mask = ScaleAwareMask(fg_weight=2.0, bg_weight=3.0)(levels(2, 32, [8]), levels(2, 32, [8]), ctx)[0]
    expected = torch.full((2, 1, 4, 4), 3.0 / 14)
    expected[0, 0, 1, 1:3] = 2.0 / 2  # box covers 1 x 2 cells
    expected[1] = 3.0 / 16  # no box: all background, no division by zero
    assert torch.allclose(mask, expected)


def test_scale_aware_mask_keeps_the_smallest_box():
    ctx = distill_context([[[0, 0, 32, 32], [8, 8, 16, 16]]])
    mask = ScaleAwareMask()(levels(1, 32, [8]), levels(1, 32, [8]), ctx)[0]
    expected = torch.full((1, 1, 4, 4), 1.0 / 16)
    expected[0, 0, 1, 1] = 1.0
    assert torch.allclose(mask, expected)


def test_decoupled_mask_by_hand():
    ctx = distill_context([[BOX], []])
    mask = DecoupledMask(fg_weight=3.0, bg_weight=12.0)(levels(2, 32, [8]), levels(2, 32, [8]), ctx)[0]
    expected = torch.full((2, 1, 4, 4), 12.0 / (2 * 30))  # 30 background cells in the batch
    expected[0, 0, 1, 1:3] = 3.0 / (2 * 2)
    assert torch.allclose(mask, expected)


def single_anchor_detector() -> nn.Module:
    """Anchors are 8 x 8 squares centred on the cell corners of a stride-8 level."""
    return detector_with_anchors(AnchorGenerator(strides=[8], ratios=[1.0], scales=[1.0], base_sizes=[8]))


def detector_with_anchors(generator: AnchorGenerator) -> nn.Module:
    head = nn.Module()
    head.prior_generator = generator
    return detector(head)


@pytest.mark.parametrize('psi, cells', [(0.5, [(1, 1)]), (0.25, [(1, 1), (0, 1), (1, 0)])])
def test_fgfi_mask_by_hand(psi, cells):
    # Box (2, 2, 10, 10): IoU 36/92 with the anchor at (1, 1), 12/116 with (0, 1) and (1, 0),
    # 4/124 with (0, 0): psi 0.5 keeps the best only, psi 0.25 (threshold 0.098) three.
    ctx = distill_context([[[2, 2, 10, 10]]], student=single_anchor_detector())
    mask = AnchorIoUMask(psi=psi)(levels(1, 32, [8]), levels(1, 32, [8]), ctx)[0]
    expected = torch.zeros(1, 1, 4, 4)
    for row, col in cells:
        expected[0, 0, row, col] = 1
    assert torch.equal(mask, expected)


def test_attention_masks_by_hand():
    features = torch.zeros(1, 2, 1, 2)
    features[0, 0, 0, 0] = 1.0  # channel 0 active at location 0 only
    spatial = SpatialAttentionMask(temperature=1.0)([features], [features], distill_context([[]], 2))[0]
    e = math.exp(0.5)
    assert torch.allclose(spatial.flatten(), torch.tensor([2 * e / (e + 1), 2 / (e + 1)]))
    channel = ChannelAttentionMask(temperature=1.0)([features], [features], distill_context([[]], 2))[0]
    assert channel.shape == (1, 2, 1, 1)
    assert torch.allclose(channel.flatten(), torch.tensor([2 * e / (e + 1), 2 / (e + 1)]))


def test_attention_source_student_teacher():
    student, teacher = levels(2, 32, [8], channels=3), levels(2, 32, [8], channels=3)
    mask = SpatialAttentionMask(0.5, source='student_teacher')(student, teacher, distill_context([[], []]))[0]
    activity = student[0].abs().mean(1) + teacher[0].abs().mean(1)
    expected = 16 * torch.softmax(activity.flatten(1) / 0.5, dim=1)
    assert torch.allclose(mask.flatten(1), expected)


# ----------------------------------------------------------------------------- against loops
STRIDES = [8, 16, 32]


@pytest.mark.parametrize('seed', [0, 1])
def test_box_masks_match_loops(seed):
    generator = torch.Generator().manual_seed(seed)
    size, batch = 128, 3
    boxes = random_boxes(batch, 9, size, generator)
    ctx = distill_context([boxes[0], boxes[1, :4], []], size)  # the third image has no boxes
    feats = levels(batch, size, STRIDES)
    sizes = [tuple(f.shape[-2:]) for f in feats]
    pairs = [
        (GTBoxMask(), loop_gt_box_mask(ctx, sizes)),
        (PriorInBoxMask(), loop_prior_mask(ctx, sizes)),
        (PriorInBoxMask(offset=0.0, center_radius=2.5), loop_prior_mask(ctx, sizes, 0.0, 2.5)),
        (ScaleAwareMask(2.0, 0.5), loop_scale_mask(ctx, sizes, 2.0, 0.5)),
        (DecoupledMask(3.0, 12.0), loop_decoupled_mask(ctx, sizes, 3.0, 12.0)),
    ]
    for mask, reference in pairs:
        out = mask(feats, feats, ctx)
        assert [o.shape for o in out] == [r.shape for r in reference], type(mask).__name__
        assert torch.allclose(flat(out), flat(reference)), type(mask).__name__


@pytest.mark.parametrize('seed', [0, 1])
def test_fgfi_mask_matches_loop(seed):
    generator = torch.Generator().manual_seed(seed)
    anchors = AnchorGenerator(strides=STRIDES, ratios=[0.5, 1.0, 2.0], octave_base_scale=4,
                              scales_per_octave=3)
    size = 128
    boxes = random_boxes(2, 12, size, generator)
    ctx = distill_context([boxes[0], boxes[1]], size, student=detector_with_anchors(anchors))
    feats = levels(2, size, STRIDES)
    out = AnchorIoUMask()(feats, feats, ctx)
    reference = loop_fgfi_mask(ctx, [tuple(f.shape[-2:]) for f in feats], anchors)
    assert flat(reference).sum() > 0
    assert torch.equal(flat(out), flat(reference))


def test_fgfi_mask_matches_levels_by_stride():
    """Features of the strides 16 and 32 use the generator's anchors of those strides."""
    anchors = AnchorGenerator(strides=STRIDES, ratios=[1.0], octave_base_scale=4, scales_per_octave=2)
    ctx = distill_context([[[10, 20, 90, 70], [60, 60, 70, 66]]], 128, student=detector_with_anchors(anchors))
    feats = levels(1, 128, STRIDES)
    full = AnchorIoUMask()(feats, feats, ctx)
    coarse = AnchorIoUMask()(feats[1:], feats[1:], ctx)
    reference = loop_fgfi_mask(ctx, [(8, 8), (4, 4)], AnchorGenerator(
        strides=STRIDES[1:], ratios=[1.0], octave_base_scale=4, scales_per_octave=2))
    assert torch.equal(flat(coarse), flat(reference))
    assert full[0].shape == (1, 1, 16, 16)


def test_fgfi_mask_rejects_point_heads():
    ctx = distill_context([[BOX]], student=detector(YOLOXHead(num_classes=2, in_channels=4, feat_channels=4,
                                                       stacked_convs=1, strides=[8])))
    with pytest.raises(TypeError, match='PriorInBoxMask'):
        AnchorIoUMask()(levels(1, 32, [8]), levels(1, 32, [8]), ctx)


# ----------------------------------------------------------------------------- discrepancy
def yolox_pair(batch: int, size: int, seed: int):
    torch.manual_seed(seed)
    heads = [YOLOXHead(num_classes=3, in_channels=4, feat_channels=4, stacked_convs=1, strides=STRIDES)
             for _ in range(2)]
    records = []
    for head in heads:
        feats = [torch.randn(batch, 4, size // s, size // s) * 3 for s in STRIDES]
        with torch.no_grad():
            records.append(dict(bbox_head=head(feats)))
    return detector(heads[0]), detector(heads[1]), records


@pytest.mark.parametrize('normalize, topk', [(False, None), (True, None), (True, 7)])
def test_discrepancy_mask_matches_loop(normalize, topk):
    student, teacher, (s_rec, t_rec) = yolox_pair(2, 64, 0)
    ctx = distill_context([[], []], 64, student, teacher, s_rec, t_rec)
    feats = levels(2, 64, STRIDES)
    mask = DiscrepancyMask(normalize=normalize, topk=topk)
    assert mask.required_records == ('bbox_head',)
    out = flat(mask(feats, feats, ctx))
    assert torch.allclose(out, loop_discrepancy_mask(ctx, normalize, topk))
    if topk is not None:
        assert ((out > 0).sum(dim=1) == topk).all()


@pytest.mark.parametrize('seed', [0, 1])
def test_gid_mask_matches_loop(seed):
    student, teacher, (s_rec, t_rec) = yolox_pair(3, 128, seed)
    ctx = distill_context([[], [], []], 128, student, teacher, s_rec, t_rec)
    feats = levels(3, 128, STRIDES)
    mask = GIDMask(iou_threshold=0.3, topk=10, nms_pre=200)
    out = mask(feats, feats, ctx)
    reference = loop_gid_mask(ctx, [tuple(f.shape[-2:]) for f in feats], 0.3, 10, 200)
    assert flat(reference).sum() > 0
    assert torch.equal(flat(out), flat(reference))
    selected = mask.select(ctx, LevelGrid.from_levels(feats, ctx))
    assert selected.valid.sum(dim=1).le(10).all()


def test_discrepancy_mask_rejects_other_levels():
    student, teacher, (s_rec, t_rec) = yolox_pair(1, 64, 0)
    ctx = distill_context([[]], 64, student, teacher, s_rec, t_rec)
    feats = levels(1, 64, [8, 16])
    with pytest.raises(ValueError, match='distil the levels the head predicts on'):
        DiscrepancyMask()(feats, feats, ctx)


# ----------------------------------------------------------------------------- composition, edges
def test_product_mask_composes_and_builds_from_config():
    ctx = distill_context([[BOX]])
    teacher = levels(1, 32, [8], channels=5)
    product = build_mask(dict(type='mmkd.ProductMask', masks=[
        dict(type='mmkd.GTBoxMask'), dict(type='SpatialAttentionMask'), dict(type='ChannelAttentionMask')]))
    out = product(teacher, teacher, ctx)[0]
    parts = [m(teacher, teacher, ctx)[0] for m in product.masks]
    assert out.shape == (1, 5, 4, 4)
    assert torch.allclose(out, parts[0] * parts[1] * parts[2])


def test_masks_carry_no_gradient():
    ctx = distill_context([[BOX]])
    student = [torch.randn(1, 3, 4, 4, requires_grad=True)]
    teacher = [torch.randn(1, 3, 4, 4)]
    for mask in (SpatialAttentionMask(source='student_teacher'), ScaleAwareMask(), GTBoxMask()):
        assert not mask(student, teacher, ctx)[0].requires_grad


@pytest.mark.parametrize('mask', [GTBoxMask(), PriorInBoxMask(center_radius=2.5), ScaleAwareMask(),
                                  DecoupledMask(), AnchorIoUMask()])
def test_bad_boxes_give_empty_foreground(mask):
    outside = [[40, 40, 60, 60], [-20, -20, -1, -1], [5, 5, 5, 20], [8, 8, 8, 8]]
    ctx = distill_context([outside, []], student=single_anchor_detector())
    out = mask(levels(2, 32, [8]), levels(2, 32, [8]), ctx)[0]
    assert torch.isfinite(out).all()
    assert (out == out[0, 0, 0, 0]).all()  # no foreground anywhere: constant (background) weight


def test_box_partly_outside_is_clipped():
    ctx = distill_context([[[-50, 20, 10, 100]]])
    mask = GTBoxMask()(levels(1, 32, [8]), levels(1, 32, [8]), ctx)[0]
    expected = torch.zeros(1, 1, 4, 4)
    expected[0, 0, 2:, 0:2] = 1
    assert torch.equal(mask, expected)
