"""Forward + backward time of each response KD loss on YOLOX-S-like shapes.

Batch 8 at 640 px, 80 classes: YOLOX levels 80x80, 40x40, 20x20 (8400
priors); LD runs on GFL-like levels with strides 8..128 (8525 priors,
``reg_max=16``). Head outputs are random tensors (the heads are built only
for their priors and decoders), with 10 GT boxes per image.

Usage::

    python benchmarks/response_kd.py [--batch 8] [--size 640] [--repeat 10]
                                     [--device cpu] [--threads N]
"""
import argparse
import statistics
import time
from typing import Callable, List, Sequence, Tuple

import torch
from mmdet.models.dense_heads import GFLHead, YOLOXHead
from mmdet.structures import DetDataSample
from mmengine.structures import InstanceData
from torch import nn

from mmkd.context import DistillContext
from mmkd.losses.response import BoxKDLoss, DKDLoss, LDLoss, SigmoidKDLoss

NUM_CLASSES = 80


def yolox_head() -> nn.Module:
    return YOLOXHead(num_classes=NUM_CLASSES, in_channels=128, feat_channels=128)


def gfl_head() -> nn.Module:
    return GFLHead(num_classes=NUM_CLASSES, in_channels=256,
                   anchor_generator=dict(type='AnchorGenerator', ratios=[1.0], octave_base_scale=8,
                                         scales_per_octave=1, strides=[8, 16, 32, 64, 128]),
                   loss_cls=dict(type='QualityFocalLoss', use_sigmoid=True, beta=2.0))


def head_outputs(head: nn.Module, channels: Sequence[int], batch: int, size: int, device: str,
                 requires_grad: bool) -> Tuple[List[torch.Tensor], ...]:
    """Random maps shaped like ``head``'s forward output at ``size`` px."""
    levels = [(size // s[0], size // s[1]) for s in head.prior_generator.strides]
    return tuple([torch.randn(batch, c, h, w, device=device).requires_grad_(requires_grad)
                  for h, w in levels] for c in channels)


def context(student: nn.Module, teacher: nn.Module, batch: int, size: int, device: str) -> DistillContext:
    samples = []
    for _ in range(batch):
        xy = torch.rand(10, 2) * size * 0.8
        wh = torch.rand(10, 2) * size * 0.2 + 8
        samples.append(DetDataSample(gt_instances=InstanceData(
            bboxes=torch.cat([xy, xy + wh], -1), labels=torch.randint(0, NUM_CLASSES, (10, )))))
    models = []
    for head in (student, teacher):
        model = nn.Module()
        model.bbox_head = head
        models.append(model)
    return DistillContext(inputs=torch.zeros(batch, 3, size, size, device=device), data_samples=samples,
                          student=models[0], teacher=models[1])


def time_loss(loss: nn.Module, head: nn.Module, channels: Sequence[int],
              args: argparse.Namespace) -> List[Tuple[float, float]]:
    """``(wall, process CPU)`` seconds of each timed forward + backward."""
    head = head.to(args.device)
    ctx = context(head, head, args.batch, args.size, args.device)
    teacher = head_outputs(head, channels, args.batch, args.size, args.device, False)
    times = []
    for step in range(args.warmup + args.repeat):
        student = head_outputs(head, channels, args.batch, args.size, args.device, True)
        _sync(args.device)
        start, start_cpu = time.perf_counter(), time.process_time()
        loss(student, teacher, ctx).backward()
        _sync(args.device)
        if step >= args.warmup:
            times.append((time.perf_counter() - start, time.process_time() - start_cpu))
    return times


def _sync(device: str) -> None:
    if device.startswith('cuda'):
        torch.cuda.synchronize()


def cases() -> List[Tuple[str, Callable[[], nn.Module], Callable[[], nn.Module], Sequence[int]]]:
    yolox_channels = (NUM_CLASSES, 4, 1)
    gfl_channels = (NUM_CLASSES, 4 * 17)
    return [
        ('SigmoidKDLoss (teacher_score)', SigmoidKDLoss, yolox_head, yolox_channels),
        ('SigmoidKDLoss (T=2, beta=2)', lambda: SigmoidKDLoss(temperature=2.0, beta=2.0), yolox_head,
         yolox_channels),
        ('DKDLoss (teacher target)', DKDLoss, yolox_head, yolox_channels),
        ('DKDLoss (gt target, positive)', lambda: DKDLoss(target='gt', weighting='positive'), yolox_head,
         yolox_channels),
        ('BoxKDLoss (score > 0.5)', BoxKDLoss, yolox_head, yolox_channels),
        ('BoxKDLoss (all priors)', lambda: BoxKDLoss(weighting='all'), yolox_head, yolox_channels),
        ('LDLoss (positive + VLR, GFL)', LDLoss, gfl_head, gfl_channels),
    ]


def _ms(seconds: float) -> str:
    return f'{seconds * 1000:.1f}'


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--batch', type=int, default=8)
    parser.add_argument('--size', type=int, default=640)
    parser.add_argument('--repeat', type=int, default=10)
    parser.add_argument('--warmup', type=int, default=2)
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--threads', type=int, default=None, help='torch CPU threads')
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    print(f'batch {args.batch}, {args.size} px, {NUM_CLASSES} classes, device {args.device}, '
          f'{torch.get_num_threads()} threads, {args.repeat} runs after {args.warmup} warm-up')
    print('| loss | wall median (ms) | wall min (ms) | CPU median (ms) |\n|---|---:|---:|---:|')
    for name, build_loss, build_head, channels in cases():
        wall, cpu = zip(*time_loss(build_loss(), build_head(), channels, args))
        cells = [_ms(statistics.median(wall)), _ms(min(wall)), _ms(statistics.median(cpu))]
        print(f'| {name} | ' + ' | '.join(cells) + ' |')


if __name__ == '__main__':
    main()
