"""Cost of each distillation scheme per training step, as a ratio to the plain student's step.

For every row (the plain student of each dataset, an offline method for reference, the
schemes of configs/distill/schemes/) the student is built from the config, its
distillation hook attached as a Runner would (mmkd.engine.standalone.attach_hook; teachers
randomly initialised: cost does not depend on trained weights), and training steps are run
on a random batch of the config's train batch size and input size: forward with the
distillation losses, backward, the config's optimizer (lr 0, so random batches leave the
weights as they are), then the hook's after_train_iter (EMA update, discriminator step,
bandit reward). Reported per row:

  * time per step / plain student's step: every config built in one process and stepped
    round-robin (the order rotating every round), so load changes hit all rows alike; the
    median, over rounds, of the round's ratio to the plain student of the same dataset;
  * peak memory / plain student's: each config built and stepped in its own spawned process,
    its peak RSS (VmHWM) less its RSS after the imports;
  * parameters and buffers the hook holds besides the student (teacher, peer, averaged copy,
    adapters, discriminator), counted from the hook's modules.

    python benchmarks/scheme_cost.py                       # every scheme, NEON where a leaf exists
    python benchmarks/scheme_cost.py --schemes mean_teacher online_dml:synth --rounds 3
"""
import argparse
import contextlib
import copy
import json
import multiprocessing
import os
import resource
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence, Tuple

import torch
from torch import nn

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from mmengine.config import Config  # noqa: E402
from mmengine.logging import MMLogger  # noqa: E402
from mmengine.optim import build_optim_wrapper  # noqa: E402

import mmkd  # noqa: E402,F401
from mmkd.engine.distiller import Distiller  # noqa: E402
from mmkd.engine.standalone import (  # noqa: E402
    attach_hook,
    distillation_hook_cfg,
    random_checkpoint,
    random_detection_batch,
    training_step,
)
from mmkd.engine.teacher import build_detector  # noqa: E402

DEFAULT_SCHEMES = ('sigmoid_kd', 'mean_teacher', 'snapshot', 'self_d2s', 'online_dml', 'relation', 'adversarial',
                   'multi_teacher', 'multi_teacher_confidence', 'multi_teacher_learned', 'multi_teacher_bandit')
# the student of configs/yolox/yolox_student_<dataset>.py: the NEON and synthetic pairs, and the NEON students of
# other architectures (a MobileNetV2 and a shallower CSPDarknet)
DATASETS = ('neon', 'synth', 'mbv2_neon', 'shallow_neon')
PLAIN = 'student'


@dataclass(frozen=True)
class Row:
    """One measured configuration: a scheme (or ``student``, the plain student) on a dataset."""
    name: str
    dataset: str
    config: str


def plain_config(dataset: str) -> str:
    return f'configs/yolox/yolox_student_{dataset}.py'


def scheme_config(name: str, dataset: str) -> Optional[str]:
    """The scheme leaf, or else the offline method config, of ``name`` on ``dataset`` (None if neither)."""
    if name == PLAIN:
        return plain_config(dataset)
    for folder in ('configs/distill/schemes', 'configs/distill'):
        config = f'{folder}/{name}_yolox_{dataset}.py'
        if (REPO / config).is_file():
            return config
    return None


def rows_for(schemes: Sequence[str]) -> List[Row]:
    """The rows of ``schemes`` (``NAME`` on the first dataset with a config, or ``NAME:DATASET``),
    grouped by dataset, each group after its plain student."""
    rows = []
    for spec in schemes:
        name, _, dataset = spec.partition(':')
        dataset = dataset or next((d for d in DATASETS if scheme_config(name, d)), DATASETS[0])
        config = scheme_config(name, dataset) if dataset in DATASETS else None
        if config is None:
            raise ValueError(f'no config for scheme "{spec}": looked for {name}_yolox_<{"|".join(DATASETS)}>.py '
                             'in configs/distill/schemes/ and configs/distill/')
        if name != PLAIN:
            rows.append(Row(name, dataset, config))
    return [row for dataset in DATASETS if any(row.dataset == dataset for row in rows)
            for row in [Row(PLAIN, dataset, plain_config(dataset))] + [row for row in rows if row.dataset == dataset]]


# ---------------------------------------------------------------------------------------------- building
def with_random_teachers(hook_cfg: dict, checkpoint_for: Callable[[str], str]) -> dict:
    """``hook_cfg`` with a randomly initialised checkpoint for each frozen teacher (``teacher=`` or
    ``teachers=[...]``); a peer (trained from scratch) and the student's own copies need none."""
    hook_cfg = copy.deepcopy(hook_cfg)
    teacher = hook_cfg.get('teacher')
    if isinstance(teacher, dict) and 'config' in teacher:
        hook_cfg['teacher'] = dict(teacher, checkpoint=checkpoint_for(teacher['config']))
    if 'teachers' in hook_cfg:
        hook_cfg['teachers'] = [dict(member, checkpoint=checkpoint_for(member['config']))
                                for member in hook_cfg['teachers']]
    return hook_cfg


def teacher_configs(hook_cfg: dict) -> List[str]:
    """The configs of the frozen teachers ``hook_cfg`` names."""
    teacher = hook_cfg.get('teacher')
    single = [teacher['config']] if isinstance(teacher, dict) and 'config' in teacher else []
    return single + [member['config'] for member in hook_cfg.get('teachers', [])]


class Case:
    """A row built: its student, optimizer, hook (none for the plain student) and random batch."""

    def __init__(self, row: Row, checkpoints: Dict[str, str], batch: Optional[int] = None,
                 size: Optional[int] = None) -> None:
        cfg = Config.fromfile(str(REPO / row.config))
        self.row = row
        self.batch = batch or cfg.train_dataloader.batch_size
        self.size = size or cfg.get('yolox_img_scale', (416, 416))[0]
        torch.manual_seed(0)
        self.student = build_detector(cfg).train()
        optim_cfg = copy.deepcopy(cfg.optim_wrapper)
        optim_cfg.optimizer.lr = 0.0  # speed and memory only: random batches leave the weights as they are
        self.optim_wrapper = build_optim_wrapper(self.student, optim_cfg)
        # pixels in [0, 1]: a random teacher (BN in eval mode) blows raw 0-255 pixels up to
        # infinite boxes, which the hook's finite check stops on; the cost is the same
        self.inputs, self.samples = random_detection_batch(self.batch, self.size, self.student.bbox_head.num_classes,
                                                           pixel_max=1.0)
        self.hook = None
        if row.name != PLAIN:
            hook_cfg = with_random_teachers(distillation_hook_cfg(cfg), checkpoints.__getitem__)
            heldout = dict(inputs=list(self.inputs), data_samples=copy.deepcopy(self.samples))
            with contextlib.redirect_stdout(sys.stderr):  # mmengine prints each checkpoint it loads
                self.hook = attach_hook(hook_cfg, self.student, self.optim_wrapper, optim_cfg,
                                        val_dataloader=[heldout])  # a bandit's held-out batch

    def step(self) -> None:
        training_step(self.student, self.optim_wrapper, self.inputs, self.samples, self.hook)

    def held(self) -> Dict[str, Any]:
        """Parameters and buffers of the hook's modules that are not the student's, by where they are held."""
        return held_tensors(self.hook, self.student) if self.hook is not None else dict(params=0, buffers=0, parts={})


def held_tensors(hook: Any, student: nn.Module) -> Dict[str, Any]:
    """Count each tensor once, under the first module path (the hook's distiller, then its teacher
    source, then the rest) that holds it; the student's own tensors are not counted (a self-distilling
    source holds the student itself)."""
    seen = {id(tensor) for tensor in [*student.parameters(), *student.buffers()]}
    totals = dict(params=0, buffers=0, parts={})
    for path, module in _modules(hook, ''):
        counts = [0, 0]
        for index, tensors in enumerate((module.parameters(), module.buffers())):
            for tensor in tensors:
                if id(tensor) not in seen:
                    seen.add(id(tensor))
                    counts[index] += tensor.numel()
        totals['params'] += counts[0]
        totals['buffers'] += counts[1]
        if counts[0]:
            part = _part(path, module)
            totals['parts'][part] = totals['parts'].get(part, 0) + counts[0]
    return totals


def _part(path: str, module: nn.Module) -> str:
    """What a held module is, for the table: adapters together, a loss module (an adversarial loss's
    discriminator) by its class, anything else by its path from the teacher source and class."""
    if '.adapters' in path:
        return 'adapters'
    if '.losses' in path:
        return type(module).__name__
    return f'{path.removeprefix("source.")} ({type(module).__name__})'


def _modules(obj: Any, path: str, visited: Optional[set] = None) -> Iterator[Tuple[str, nn.Module]]:
    """The modules reachable from an mmkd object's public attributes (through lists, dicts and module
    containers), depth first; a distiller is split into its adapters and its losses (a discriminator is
    one of its losses)."""
    visited = set() if visited is None else visited
    if id(obj) in visited:
        return
    visited.add(id(obj))
    if isinstance(obj, (Distiller, nn.ModuleList, nn.ModuleDict)):
        for name, child in obj.named_children():
            yield from _modules(child, f'{path}.{name}' if isinstance(obj, Distiller) else f'{path}[{name}]',
                                visited)
    elif isinstance(obj, nn.Module):
        yield path, obj
    elif isinstance(obj, (list, tuple)):
        for index, item in enumerate(obj):
            yield from _modules(item, f'{path}[{index}]', visited)
    elif isinstance(obj, dict):
        for key, item in obj.items():
            yield from _modules(item, f'{path}[{key!r}]', visited)
    elif type(obj).__module__.startswith('mmkd.') and hasattr(obj, '__dict__'):
        attributes = {name: value for name, value in vars(obj).items() if not name.startswith('_')}
        for name in sorted(attributes, key=lambda name: (name not in ('distiller', 'source'), name)):
            yield from _modules(attributes[name], f'{path}.{name}'.lstrip('.'), visited)


def write_random_checkpoints(rows: Sequence[Row], workdir: str) -> Dict[str, str]:
    """One randomly initialised checkpoint per teacher config the rows' hooks name."""
    checkpoints: Dict[str, str] = {}
    for row in rows:
        if row.name == PLAIN:
            continue
        for config in teacher_configs(distillation_hook_cfg(Config.fromfile(str(REPO / row.config)))):
            if config not in checkpoints:
                torch.manual_seed(0)
                checkpoints[config] = random_checkpoint(config, os.path.join(workdir, f'{len(checkpoints)}.pth'))
    return checkpoints


# --------------------------------------------------------------------------------------------- measuring
def measure_times(cases: Sequence[Case], rounds: int, steps: int) -> Dict[Row, List[float]]:
    """Mean step time of each case in each round: one untimed warm-up step each, then ``rounds`` rounds
    of ``steps`` steps per case, round-robin, the starting case rotating every round."""
    for case in cases:
        case.step()
    times: Dict[Row, List[float]] = {case.row: [] for case in cases}
    for round_index in range(rounds):
        shift = round_index % len(cases)
        for case in [*cases[shift:], *cases[:shift]]:
            start = time.perf_counter()
            for _ in range(steps):
                case.step()
            times[case.row].append((time.perf_counter() - start) / steps)
    return times


def _rss_mib(field: str) -> float:
    """``VmRSS`` (now) or ``VmHWM`` (peak) of this process in MiB (Linux); ``ru_maxrss`` without /proc."""
    try:
        with open('/proc/self/status') as status:
            return next(int(line.split()[1]) for line in status if line.startswith(field + ':')) / 1024
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def peak_memory(row: Row, checkpoints: Dict[str, str], steps: int, batch: Optional[int],
                size: Optional[int]) -> float:
    """Peak RSS (MiB) of building ``row`` and running ``steps`` + 1 steps, over the RSS after the imports.

    Run in a fresh spawned process: VmHWM is the process's own high-water mark (a forked child
    would share the parent's pages; ``ru_maxrss`` carries over the parent's peak through exec)."""
    from mmdet.utils import register_all_modules
    register_all_modules(init_default_scope=False)  # mmdet's models imported: the same for every row
    MMLogger.get_current_instance().setLevel('WARNING')
    base = _rss_mib('VmRSS')
    case = Case(row, checkpoints, batch, size)
    for _ in range(steps + 1):
        case.step()
    return _rss_mib('VmHWM') - base


def measure_memory(rows: Sequence[Row], checkpoints: Dict[str, str], steps: int, batch: Optional[int] = None,
                   size: Optional[int] = None) -> Dict[Row, float]:
    """:func:`peak_memory` of each row, one spawned process at a time."""
    context = multiprocessing.get_context('spawn')
    memory = {}
    for row in rows:
        with context.Pool(1) as pool:
            memory[row] = pool.apply(peak_memory, (row, checkpoints, steps, batch, size))
    return memory


# --------------------------------------------------------------------------------------------- the table
def results_table(times: Dict[Row, List[float]], memory: Dict[Row, float],
                  held: Dict[Row, Dict[str, Any]]) -> List[Dict[str, Any]]:
    """One result per row with its ratios to the plain student of its dataset: time as the median over
    rounds of the round's ratio (and the range), memory as the ratio of the peaks."""
    plain = {row.dataset: row for row in times if row.name == PLAIN}
    results = []
    for row, row_times in times.items():
        base = plain[row.dataset]
        ratios = [mine / theirs for mine, theirs in zip(row_times, times[base])]
        results.append(dict(
            scheme=row.name, dataset=row.dataset, config=row.config,
            seconds=statistics.median(row_times), time_ratio=statistics.median(ratios),
            time_ratio_range=[min(ratios), max(ratios)],
            memory_mib=memory.get(row),
            memory_ratio=memory[row] / memory[base] if row in memory and base in memory else None,
            held_params=held[row]['params'], held_buffers=held[row]['buffers'], held_parts=held[row]['parts']))
    return results


def format_table(results: Sequence[Dict[str, Any]]) -> List[str]:
    lines = ['| scheme | data | time / step (x student) | peak memory (x student) | '
             'held besides the student (M params) | held where (M params) |',
             '|---|---|---|---|---|---|']
    for result in results:
        low, high = result['time_ratio_range']
        memory = f'{result["memory_ratio"]:.2f}' if result['memory_ratio'] is not None else '-'
        parts = '; '.join(f'{part} {_millions(count)}' for part, count in result['held_parts'].items()) or '-'
        buffers = f' (+{result["held_buffers"] / 1e6:.2f} M buffers)' if result['held_buffers'] else ''
        lines.append(f'| {result["scheme"]} | {result["dataset"]} | {result["time_ratio"]:.2f} '
                     f'({low:.2f}-{high:.2f}) | {memory} | {result["held_params"] / 1e6:.2f}{buffers} | {parts} |')
    return lines


def _millions(count: int) -> str:
    return f'{count / 1e6:.2f}' if count >= 5000 else f'{count} params'


def caption(results: Sequence[Dict[str, Any]], cases: Sequence[Case], args: argparse.Namespace) -> str:
    plain = {result['dataset']: result for result in results if result['scheme'] == PLAIN}
    sizes = sorted({f'{case.row.dataset}: batch {case.batch} at {case.size} px' for case in cases})
    students = ', '.join(f'{dataset} {result["seconds"]:.2f} s, {result["memory_mib"] or 0:.0f} MiB'
                         for dataset, result in plain.items())
    return (f'{"; ".join(sizes)}; {args.rounds} rounds x {args.steps} step(s), {torch.get_num_threads()} '
            f'thread(s); plain student step (median) and peak RSS over imports: {students}')


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--schemes', nargs='+', default=list(DEFAULT_SCHEMES),
                        help='scheme names (configs/distill/schemes/<name>_yolox_<data>.py, or an offline method '
                             f'of configs/distill/), NAME:DATA to choose the data ({", ".join(DATASETS)})')
    parser.add_argument('--rounds', type=int, default=5, help='round-robin rounds (time: median over them)')
    parser.add_argument('--steps', type=int, default=1, help='timed steps per config and round')
    parser.add_argument('--memory-steps', type=int, default=1,
                        help='steps after the warm-up step in each memory process')
    parser.add_argument('--no-memory', action='store_true', help='skip the peak-memory processes')
    parser.add_argument('--batch', type=int, help='override every config\'s train batch size')
    parser.add_argument('--size', type=int, help='override every config\'s input size')
    parser.add_argument('--json', help='also write the results here')
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> List[Dict[str, Any]]:
    args = parse_args(argv)
    os.chdir(REPO)  # teacher and peer configs are paths relative to the repository
    MMLogger.get_current_instance().setLevel('WARNING')
    rows = rows_for(args.schemes)
    with tempfile.TemporaryDirectory() as workdir:
        checkpoints = write_random_checkpoints(rows, workdir)
        # memory first: the spawned processes start from this one while it is still small
        memory = {} if args.no_memory else measure_memory(rows, checkpoints, args.memory_steps, args.batch,
                                                          args.size)
        cases = [Case(row, checkpoints, args.batch, args.size) for row in rows]
    times = measure_times(cases, args.rounds, args.steps)
    results = results_table(times, memory, {case.row: case.held() for case in cases})
    print(caption(results, cases, args))
    print()
    print('\n'.join(format_table(results)))
    if args.json:
        Path(args.json).write_text(json.dumps(dict(caption=caption(results, cases, args), rows=results), indent=1))
    return results


if __name__ == '__main__':
    main()
