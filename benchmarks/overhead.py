"""Overhead of distillation per training step, on one fixed batch.

Measures, for the student, teacher and distill entries of a distill config:
  * student-only training step (forward, loss, backward, optimizer step),
  * teacher no-grad forward of what the distillation entries need,
  * full distillation step through ``mmkd.DistillationHook`` (the student
    step plus teacher forward plus distillation losses),
and the peak memory of each (``torch.cuda.max_memory_allocated`` on GPU; on
CPU the peak RSS of a separate process per phase, less that of a process that
only imported the stack). Weights are random: speed does not depend on them.

    python benchmarks/overhead.py       # FGD, YOLOX-L -> YOLOX-S (fgd_yolox_l_s_coco.py), 320 px, batch 2, CPU
    python benchmarks/overhead.py --config configs/distill/dkd_yolox_l_s_coco.py
    python benchmarks/overhead.py --size 640 --batch 8 --device cuda [--amp]
"""
import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List

import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from mmengine.config import Config  # noqa: E402
from mmengine.optim import build_optim_wrapper  # noqa: E402

import mmkd  # noqa: E402,F401
from mmkd.engine.distiller import Distiller  # noqa: E402
from mmkd.engine.standalone import (  # noqa: E402
    attach_hook,
    calibrate_batch_norm,
    distillation_hook_cfg,
    random_checkpoint,
    random_detection_batch,
    training_step,
)
from mmkd.engine.teacher import build_detector, freeze, load_detector_config, run_detector  # noqa: E402

PHASES = ('baseline', 'student', 'teacher', 'distill')


class Pair:
    """Student model, teacher config and distillation hook of a distill config."""

    def __init__(self, config: str) -> None:
        self.cfg = Config.fromfile(str(REPO / config) if not Path(config).is_absolute() else config)
        self.hook_cfg = distillation_hook_cfg(self.cfg)
        self.teacher_config = self.hook_cfg['teacher']['config']

    def build_student(self, args: argparse.Namespace):
        student = build_detector(self.cfg).to(args.device).train()
        optim_cfg = dict(type='AmpOptimWrapper' if args.amp else 'OptimWrapper',
                         optimizer=dict(type='SGD', lr=0.0, momentum=0.9))  # speed only
        return student, build_optim_wrapper(student, optim_cfg), optim_cfg

    def build_teacher(self) -> torch.nn.Module:
        return build_detector(load_detector_config(self.teacher_config, 'teacher'))

    def attach_distillation(self, student, optim_wrapper, optim_cfg, workdir: Path, inputs: torch.Tensor):
        """The config's hook with a randomly initialised teacher checkpoint (speed does not depend on weights),
        its batch-norm statistics set on ``inputs`` (finite features under AMP)."""
        checkpoint = random_checkpoint(self.teacher_config, str(workdir / 'teacher.pth'), inputs)
        hook_cfg = dict(self.hook_cfg, teacher=dict(self.hook_cfg['teacher'], checkpoint=checkpoint))
        return attach_hook(hook_cfg, student, optim_wrapper, optim_cfg)


def phase_step(args: argparse.Namespace, phase: str, workdir: Path):
    """The callable one step of ``phase`` runs; builds only what it needs."""
    pair = Pair(args.config)
    if phase == 'teacher':
        teacher = pair.build_teacher().to(args.device)
        inputs, _ = random_detection_batch(args.batch, args.size, teacher.bbox_head.num_classes, args.device)
        calibrate_batch_norm(teacher, inputs)
        teacher = freeze(teacher)
        paths = Distiller(pair.hook_cfg['distill']).record_paths('teacher')

        def teacher_forward() -> None:
            with torch.no_grad(), torch.autocast(args.device, enabled=args.amp):
                run_detector(teacher, inputs, paths)
        return teacher_forward
    student, optim_wrapper, optim_cfg = pair.build_student(args)
    inputs, samples = random_detection_batch(args.batch, args.size, student.bbox_head.num_classes, args.device)
    hook = (pair.attach_distillation(student, optim_wrapper, optim_cfg, workdir, inputs) if phase == 'distill'
            else None)
    return lambda: training_step(student, optim_wrapper, inputs, samples, hook)


def timed(fn, repeats: int, device: str) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        if device == 'cuda':
            torch.cuda.synchronize()
        start = time.perf_counter()
        fn()
        if device == 'cuda':
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    return sorted(times)[len(times) // 2]


def measure_phase(args: argparse.Namespace, phase: str) -> Dict[str, float]:
    """Median time and peak memory (MiB) of one phase, in this process."""
    if phase == 'baseline':
        return dict(seconds=0.0, memory_mib=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    with tempfile.TemporaryDirectory() as workdir:
        if args.device == 'cuda':
            torch.cuda.reset_peak_memory_stats()
        seconds = timed(phase_step(args, phase, Path(workdir)), args.repeats, args.device)
        if args.device == 'cuda':
            memory = torch.cuda.max_memory_allocated() / 2 ** 20
        else:
            memory = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        return dict(seconds=seconds, memory_mib=memory)


def run_isolated(args: argparse.Namespace, phase: str) -> Dict[str, float]:
    """Each phase in its own process, so CPU peak RSS belongs to that phase."""
    command = [sys.executable, __file__, '--phase', phase] + [
        f'--{key.replace("_", "-")}={value}' for key, value in vars(args).items()
        if key not in ('phase', 'amp', 'json') and value is not None]
    if args.amp:
        command.append('--amp')
    out = subprocess.run(command, capture_output=True, text=True, cwd=REPO)
    if out.returncode:
        raise RuntimeError(f'phase {phase} failed:\n{out.stderr[-3000:]}')
    return json.loads(out.stdout.strip().splitlines()[-1])


def report(results: Dict[str, Dict[str, float]], args: argparse.Namespace) -> List[str]:
    student, teacher, distill = (results[p] for p in ('student', 'teacher', 'distill'))
    base = results['baseline']['memory_mib'] if args.device == 'cpu' else 0.0
    mem = {p: results[p]['memory_mib'] - base for p in ('student', 'teacher', 'distill')}
    time_ratio = distill['seconds'] / (student['seconds'] + teacher['seconds'])
    mem_ratio = mem['distill'] / (mem['student'] + mem['teacher'])
    memory_kind = 'peak allocated' if args.device == 'cuda' else 'peak RSS above import baseline'
    return [
        f'{args.config} (teacher {Pair(args.config).teacher_config}), batch {args.batch}, {args.size} px, '
        f'device {args.device}{" AMP" if args.amp else ""}, median of {args.repeats}',
        '',
        f'| phase | time per step (s) | memory ({memory_kind}, MiB) |',
        '|---|---|---|',
        f'| student training step | {student["seconds"]:.3f} | {mem["student"]:.0f} |',
        f'| teacher no-grad forward | {teacher["seconds"]:.3f} | {mem["teacher"]:.0f} |',
        f'| distillation step (mmkd) | {distill["seconds"]:.3f} | {mem["distill"]:.0f} |',
        '',
        f'distillation / (student + teacher): time {time_ratio:.3f} (target <= 1.10), '
        f'memory {mem_ratio:.3f} (target <= 1.10)',
    ]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--config', default='configs/distill/fgd_yolox_l_s_coco.py',
                        help='a distill config: its student, its teacher config and its distill entries')
    parser.add_argument('--size', type=int, default=320)
    parser.add_argument('--batch', type=int, default=2)
    parser.add_argument('--repeats', type=int, default=3)
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    parser.add_argument('--amp', action='store_true')
    parser.add_argument('--phase', choices=PHASES, help=argparse.SUPPRESS)
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    if args.phase:
        print(json.dumps(measure_phase(args, args.phase)))
        return
    results = {phase: run_isolated(args, phase) for phase in PHASES}
    print('\n'.join(report(results, args)))


if __name__ == '__main__':
    main()
