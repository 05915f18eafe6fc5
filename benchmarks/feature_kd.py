"""Speed of the feature-KD masks and losses on CPU.

Batch 8, a 640 x 640 input, three levels at strides 8 / 16 / 32 (80x80,
40x40, 20x20), 128 and 256 channels, 10 / 50 / 200 ground-truth boxes per
image. Each mask is timed next to the straightforward per-box loop
implementation of the same mask (the references of ``tests/test_masks.py``),
and each loss forward + backward next to one YOLOX-S training step at the same
batch and input size.

Run from the repository root::

    python benchmarks/feature_kd.py               # the table of docs/feature_kd.md (1 thread)
    python benchmarks/feature_kd.py --threads 2   # wall time with 2 threads
    python benchmarks/feature_kd.py --quick       # fewer repeats, no YOLOX-S step
"""
import argparse
import sys
import time
from pathlib import Path
from typing import Callable, Dict, List, Optional

import torch
from mmdet.models.dense_heads import YOLOXHead
from mmdet.models.task_modules.prior_generators import AnchorGenerator

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / 'tests'))

import test_masks as ref  # noqa: E402

from mmkd.losses.feature import AttentionGuidedLoss, CWDLoss, FGDLoss, MaskedFeatureLoss, NonLocalDistillLoss, PKDLoss  # noqa: E402
from mmkd.masks import AnchorIoUMask, DecoupledMask, DiscrepancyMask, GIDMask, GTBoxMask, PriorInBoxMask, ScaleAwareMask  # noqa: E402

BATCH, SIZE, STRIDES = 8, 640, [8, 16, 32]
SIZES = [(SIZE // s, SIZE // s) for s in STRIDES]
BOX_COUNTS = [10, 50, 200]
CHANNELS = [128, 256]


CLOCK = {'name': 'wall time', 'fn': time.perf_counter}


def timed(fn: Callable[[], object], repeats: int) -> float:
    """Best time of ``fn`` in milliseconds over ``repeats`` calls after a warm-up.

    The minimum, not the median: on a shared machine other processes only ever
    add time. With one thread the clock is the process's CPU time, which other
    processes do not inflate.
    """
    fn()
    times = []
    for _ in range(repeats):
        start = CLOCK['fn']()
        fn()
        times.append(CLOCK['fn']() - start)
    return 1e3 * min(times)


def boxes_for(count: int, seed: int = 0) -> torch.Tensor:
    """COCO-like boxes: sides from 8 px to half the image, inside the image."""
    generator = torch.Generator().manual_seed(seed)
    wh = (8 * (SIZE / 16) ** torch.rand(BATCH, count, 2, generator=generator))
    xy = torch.rand(BATCH, count, 2, generator=generator) * (SIZE - wh)
    return torch.cat([xy, xy + wh], dim=-1)


def retina_anchors() -> AnchorGenerator:
    return AnchorGenerator(strides=STRIDES, ratios=[0.5, 1.0, 2.0], octave_base_scale=4,
                           scales_per_octave=3)


def yolox_context(channels: int):
    """Student / teacher YOLOX heads and their recorded outputs on random features."""
    torch.manual_seed(0)
    heads = [YOLOXHead(num_classes=80, in_channels=channels, feat_channels=channels,
                       stacked_convs=1, strides=STRIDES) for _ in range(2)]
    records = []
    for head in heads:
        feats = [torch.randn(BATCH, channels, h, w) for h, w in SIZES]
        with torch.no_grad():
            records.append(dict(bbox_head=head(feats)))
    return ref.detector(heads[0]), ref.detector(heads[1]), records


def mask_rows(repeats: int) -> List[Dict]:
    rows = []
    feats = [torch.zeros(BATCH, 1, h, w) for h, w in SIZES]
    anchors = retina_anchors()
    for count in BOX_COUNTS:
        ctx = ref.distill_context(list(boxes_for(count)), SIZE, student=ref.detector_with_anchors(anchors))
        cases = [
            ('GTBoxMask', GTBoxMask(), lambda: ref.loop_gt_box_mask(ctx, SIZES)),
            ('PriorInBoxMask(r=2.5)', PriorInBoxMask(center_radius=2.5),
             lambda: ref.loop_prior_mask(ctx, SIZES, 0.5, 2.5)),
            ('AnchorIoUMask (FGFI, 9 anchors)', AnchorIoUMask(),
             lambda: ref.loop_fgfi_mask(ctx, SIZES, anchors)),
            ('ScaleAwareMask (FGD)', ScaleAwareMask(), lambda: ref.loop_scale_mask(ctx, SIZES, 1.0, 1.0)),
            ('DecoupledMask (DeFeat)', DecoupledMask(), lambda: ref.loop_decoupled_mask(ctx, SIZES, 1.0, 1.0)),
        ]
        for name, mask, loop in cases:
            rows.append(dict(name=name, boxes=count, fast=timed(lambda: mask(feats, feats, ctx), repeats),
                             loop=timed(loop, 1)))
    student, teacher, (s_rec, t_rec) = yolox_context(128)
    ctx = ref.distill_context([[]] * BATCH, SIZE, student, teacher, s_rec, t_rec)
    dense = DiscrepancyMask(normalize=True, topk=1000)
    gid = GIDMask()
    rows.append(dict(name='DiscrepancyMask (top-1000)', boxes='-',
                     fast=timed(lambda: dense(feats, feats, ctx), repeats),
                     loop=timed(lambda: ref.loop_discrepancy_mask(ctx, True, 1000), 1)))
    rows.append(dict(name='GIDMask (NMS 0.3, K=10)', boxes='-', fast=timed(lambda: gid(feats, feats, ctx), repeats),
                     loop=timed(lambda: ref.loop_gid_mask(ctx, SIZES, 0.3, 10, 1000), 1)))
    return rows


def loss_cases(channels: int):
    """``(name, loss, uses_anchor_head)``."""
    levels = [channels] * len(STRIDES)
    return [
        ('MaskedFeatureLoss + GTBoxMask', MaskedFeatureLoss(dict(type='mmkd.GTBoxMask')), False),
        ('MaskedFeatureLoss + AnchorIoUMask (FGFI)', MaskedFeatureLoss(dict(type='mmkd.AnchorIoUMask')), True),
        ('MaskedFeatureLoss + DecoupledMask (DeFeat)',
         MaskedFeatureLoss(dict(type='mmkd.DecoupledMask', fg_weight=1.0, bg_weight=4.0), normalize='none'),
         False),
        ('MaskedFeatureLoss + GIDMask (GID)', MaskedFeatureLoss(dict(type='mmkd.GIDMask')), False),
        ('CWDLoss', CWDLoss(), False),
        ('PKDLoss', PKDLoss(), False),
        ('FGDLoss (with GcBlocks)', FGDLoss(levels), False),
        ('AttentionGuidedLoss', AttentionGuidedLoss(), False),
        ('NonLocalDistillLoss (all levels, sub_sample)', NonLocalDistillLoss(levels, sub_sample=True), False),
        ('NonLocalDistillLoss (strides 16, 32)', NonLocalDistillLoss(levels[1:]), False),
        ('NonLocalDistillLoss (strides 16, 32, sub_sample)',
         NonLocalDistillLoss(levels[1:], sub_sample=True), False),
    ]


def loss_rows(repeats: int) -> List[Dict]:
    rows = []
    boxes = list(boxes_for(50))
    anchor_ctx = ref.distill_context(boxes, SIZE, student=ref.detector_with_anchors(retina_anchors()))
    for channels in CHANNELS:
        student_det, teacher_det, (s_rec, t_rec) = yolox_context(channels)
        yolox_ctx = ref.distill_context(boxes, SIZE, student_det, teacher_det, s_rec, t_rec)
        teacher = [torch.randn(BATCH, channels, h, w) for h, w in SIZES]
        student = [torch.randn(BATCH, channels, h, w, requires_grad=True) for h, w in SIZES]
        for name, loss, anchored in loss_cases(channels):
            ctx = anchor_ctx if anchored else yolox_ctx
            used = len(loss.in_channels) if hasattr(loss, 'in_channels') else len(STRIDES)
            s_levels, t_levels = student[-used:], teacher[-used:]
            rows.append(dict(name=name, channels=channels,
                             ms=timed(lambda: loss(s_levels, t_levels, ctx).backward(), repeats)))
    return rows


def yolox_step_ms() -> Optional[float]:
    """One YOLOX-S training step (forward, loss, backward) at batch 8, 640 px."""
    import mmdet
    from mmdet.registry import MODELS
    from mmdet.structures import DetDataSample
    from mmdet.utils import register_all_modules
    from mmengine.config import Config
    from mmengine.structures import InstanceData
    register_all_modules()
    cfg = Config.fromfile(str(Path(mmdet.__file__).parent / '.mim/configs/yolox/yolox_s_8xb8-300e_coco.py'))
    model = MODELS.build(cfg.model)
    model.train()
    boxes = boxes_for(10)
    samples = []
    for image_boxes in boxes:
        sample = DetDataSample(metainfo=dict(img_shape=(SIZE, SIZE), pad_shape=(SIZE, SIZE)))
        sample.gt_instances = InstanceData(bboxes=image_boxes, labels=torch.randint(0, 80, (len(image_boxes),)))
        samples.append(sample)
    inputs = torch.randn(BATCH, 3, SIZE, SIZE)

    def step() -> None:
        losses = model.loss(inputs, samples)
        sum(v for k, v in losses.items() if 'loss' in k).backward()

    return timed(step, 2)


def print_table(masks: List[Dict], losses: List[Dict], step: Optional[float]) -> None:
    print(f'\nMasks: batch {BATCH}, {SIZE}x{SIZE} input, levels {SIZES}, '
          f'{torch.get_num_threads()} thread(s), best {CLOCK["name"]}')
    print('| mask | GT boxes / image | vectorised (ms) | per-box loop (ms) | speed-up |')
    print('|---|---:|---:|---:|---:|')
    for row in masks:
        print(f'| {row["name"]} | {row["boxes"]} | {row["fast"]:.1f} | {row["loop"]:.1f} | '
              f'{row["loop"] / row["fast"]:.0f}x |')
    reference = f'{step:.0f} ms' if step else 'not measured (--quick)'
    print(f'\nLosses (forward + backward, 50 boxes / image); YOLOX-S training step: {reference}')
    print('| loss | channels | fwd+bwd (ms) | % of YOLOX-S step |')
    print('|---|---:|---:|---:|')
    for row in losses:
        share = f'{100 * row["ms"] / step:.1f}%' if step else '-'
        print(f'| {row["name"]} | {row["channels"]} | {row["ms"]:.1f} | {share} |')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--quick', action='store_true', help='fewer repeats, skip the YOLOX-S step')
    parser.add_argument('--threads', type=int, default=1,
                        help='torch CPU threads (default 1: timed by CPU time, robust on a shared machine)')
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if args.threads == 1:
        CLOCK.update(name='CPU time', fn=time.process_time)
    repeats = 2 if args.quick else 5
    start = time.perf_counter()
    masks = mask_rows(repeats)
    losses = loss_rows(repeats)
    step = None if args.quick else yolox_step_ms()
    print_table(masks, losses, step)
    print(f'\n(total benchmark time {time.perf_counter() - start:.0f} s)')


if __name__ == '__main__':
    main()
