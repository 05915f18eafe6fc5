"""Two training runs on a 2-core machine: one after the other with 2 threads each, or side by side with 1 each?

Trains the NEON baseline student (``configs/yolox/yolox_student_neon.py``)
for ``--epochs`` epochs through ``tools/train.py``, twice (seeds 0 and 1), in
the two arrangements, and prints the wall time of each and their ratio. The
arrangement that finishes both runs first is what ``tools/benchmark.py
--jobs`` should use on this machine. Each arrangement runs once, the two
back to back in one invocation, so both see the same machine load; run it on
an otherwise idle machine.

    python benchmarks/parallel_runs.py [--epochs 10] [--config CONFIG]
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import List, Sequence

REPO = Path(__file__).resolve().parents[1]
SEEDS = (0, 1)


def train_command(config: str, seed: int, epochs: int, work_dir: Path) -> List[str]:
    return [sys.executable, str(REPO / 'tools' / 'train.py'), config, '--work-dir', str(work_dir),
            '--cfg-options', f'randomness.seed={seed}', f'train_cfg.max_epochs={epochs}',
            f'train_cfg.val_interval={epochs + 1}', f'default_hooks.checkpoint.interval={epochs + 1}']


def run_all(commands: Sequence[List[str]], threads: int, parallel: bool) -> float:
    """Wall seconds to finish every command, each with ``threads`` torch/OpenMP threads."""
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
    start = time.perf_counter()
    if parallel:
        processes = [subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.DEVNULL,
                                      stderr=subprocess.STDOUT) for command in commands]
        codes = [process.wait() for process in processes]
    else:
        codes = [subprocess.run(command, cwd=REPO, env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.STDOUT).returncode for command in commands]
    if any(codes):
        sys.exit(f'a training run failed (exit codes {codes}); run one by hand: {" ".join(commands[0])}')
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--config', default='configs/yolox/yolox_student_neon.py')
    parser.add_argument('--epochs', type=int, default=10, help='epochs per run (NEON: 5 iterations each)')
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        for name, threads, parallel in (('sequential', cores, False), ('parallel', max(1, cores // 2), True)):
            commands = [train_command(args.config, seed, args.epochs, Path(scratch) / name / f'seed{seed}')
                        for seed in SEEDS]
            rows.append((name, threads, run_all(commands, threads, parallel)))
    sequential_seconds = rows[0][2]
    print(f'{len(SEEDS)} runs of {args.config}, {args.epochs} epochs each, {cores} cores\n')
    print('| arrangement | threads per run | wall s | time / sequential |')
    print('|---|---|---|---|')
    for name, threads, seconds in rows:
        print(f'| {name} | {threads} | {seconds:.1f} | {seconds / sequential_seconds:.2f} |')


if __name__ == '__main__':
    main()
