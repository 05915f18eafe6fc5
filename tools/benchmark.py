"""Accuracy benchmark: teacher, baseline student and distilled students, over seeds.

For each dataset of the chosen set, trains the teacher once (seed 0), then the
baseline student and one distilled student per method for every seed, all with
the same schedule, through ``tools/train.py``; evaluates every final
checkpoint with the configs' ``CocoMetric``; writes ``results.json``,
``results.md`` (mean and spread over seeds, gain, share of the teacher-baseline
gap closed) and PNG plots (mAP per method; detection and distillation loss
curves) to ``--out``.

Resumable: a finished run keeps its ``result.json`` and is not trained again;
an interrupted one resumes from its last checkpoint. Runs live under
``work_dirs/benchmark/runs/<dataset>/<method>/seed<k>`` whatever the set, so
``--set default`` reuses what ``--set quick`` (``make demo``) trained.

    python tools/benchmark.py [--set quick|default|full] [--datasets neon synth]
                              [--methods fgd pkd] [--seeds 0 1] [--out DIR]
"""
import argparse
import json
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import mmkd  # noqa: E402,F401
from mmengine.config import Config  # noqa: E402
from mmengine.runner import Runner  # noqa: E402

from mmkd.utils.cli import fail  # noqa: E402
from tools.publish_model import publish  # noqa: E402

RUNS_DIR = REPO / 'work_dirs' / 'benchmark' / 'runs'
METRICS = ('bbox_mAP', 'bbox_mAP_50', 'bbox_mAP_75', 'bbox_mAP_s', 'bbox_mAP_m', 'bbox_mAP_l')
TEACHER, BASELINE = 'teacher', 'baseline'


@dataclass(frozen=True)
class TrainedModel:
    """A model another run needs: trained once and published as ``teacher.pth``."""
    config: str
    work_dir: str

    @property
    def published(self) -> Path:
        return REPO / self.work_dir / 'teacher.pth'


@dataclass(frozen=True)
class Dataset:
    name: str
    description: str
    teacher: TrainedModel
    student_config: str
    method_configs: Dict[str, str]
    # models besides the teacher that some methods read (multi-teacher, ...)
    extra_teachers: Dict[str, Tuple[TrainedModel, ...]] = field(default_factory=dict)


def _yolox_methods(dataset: str, methods: Sequence[str]) -> Dict[str, str]:
    return {method: f'configs/distill/{method}_yolox_{dataset}.py' for method in methods}


FEATURE_METHODS = ('fgfi', 'defeat', 'gid', 'fgd', 'cwd', 'pkd', 'attention')
RESPONSE_METHODS = ('sigmoid_kd', 'dkd', 'bbox_kd')
SCHEMES = ('mean_teacher', 'snapshot', 'self_d2s', 'online_dml', 'relation', 'adversarial',
           'multi_teacher', 'multi_teacher_confidence', 'multi_teacher_learned', 'multi_teacher_bandit')
RTMDET_SYNTH = TrainedModel('configs/rtmdet/rtmdet_teacher_synth.py', 'work_dirs/rtmdet_teacher_synth')
YOLOX_M_SYNTH = TrainedModel('configs/distill/schemes/models/yolox_m_synth.py', 'work_dirs/yolox_m_synth')

DATASETS = {
    'neon': Dataset(
        'neon', 'NEON tree crowns (real aerial RGB, 1 class), 17 val tiles',
        TrainedModel('configs/yolox/yolox_teacher_neon.py', 'work_dirs/yolox_teacher_neon'),
        'configs/yolox/yolox_student_neon.py',
        _yolox_methods('neon', FEATURE_METHODS + RESPONSE_METHODS)),
    'synth': Dataset(
        'synth', 'synthetic shapes (3 classes), 64 val images',
        TrainedModel('configs/yolox/yolox_teacher_synth.py', 'work_dirs/yolox_teacher_synth'),
        'configs/yolox/yolox_student_synth.py',
        {**_yolox_methods('synth', FEATURE_METHODS + RESPONSE_METHODS + ('kd',)),
         **{scheme: f'configs/distill/schemes/{scheme}_yolox_synth.py' for scheme in SCHEMES}},
        extra_teachers={'multi_teacher': (RTMDET_SYNTH,), 'multi_teacher_learned': (RTMDET_SYNTH,),
                        'multi_teacher_confidence': (YOLOX_M_SYNTH,), 'multi_teacher_bandit': (YOLOX_M_SYNTH,)}),
}

# set -> (methods per dataset, seeds); 'full' takes every method of each dataset
SETS: Dict[str, Tuple[Dict[str, Sequence[str]], Sequence[int]]] = {
    'quick': ({'neon': ('sigmoid_kd',)}, (0,)),
    # NEON only: in its 10-epoch CPU schedule the synthetic-set teacher reaches
    # mAP 0.008 (docs/results.md), too weak a reference for a gap to close
    'default': ({'neon': ('fgd', 'defeat', 'pkd', 'sigmoid_kd', 'dkd')}, (0, 1)),
    'full': ({name: tuple(dataset.method_configs) for name, dataset in DATASETS.items()}, (0, 1)),
}


@dataclass
class Run:
    dataset: str
    method: str
    seed: int
    config: str
    work_dir: str
    train_seconds: float = 0.0
    metrics: Dict[str, float] = field(default_factory=dict)

    @property
    def path(self) -> Path:
        return REPO / self.work_dir

    @property
    def final_checkpoint(self) -> Path:
        epochs = Config.fromfile(str(REPO / self.config)).train_cfg.max_epochs
        return self.path / f'epoch_{epochs}.pth'

    @property
    def result_file(self) -> Path:
        return self.path / 'result.json'


def log(message: str) -> None:
    print(f'[benchmark] {message}', flush=True)


def train(run: Run) -> None:
    """Train ``run`` with tools/train.py unless its final checkpoint exists."""
    if run.final_checkpoint.is_file():
        return
    command = [sys.executable, str(REPO / 'tools' / 'train.py'), run.config, '--work-dir', run.work_dir,
               '--cfg-options', f'randomness.seed={run.seed}']
    if (run.path / 'last_checkpoint').is_file():
        command.append('--resume')
    run.path.mkdir(parents=True, exist_ok=True)
    train_log = run.path / 'train.log'
    log(f'{run.dataset}/{run.method}/seed{run.seed}: training, log in {train_log.relative_to(REPO)}')
    start = time.time()
    with open(train_log, 'a') as stream:
        returncode = subprocess.run(command, cwd=REPO, stdout=stream, stderr=subprocess.STDOUT).returncode
    if returncode:
        fail(f'{run.dataset}/{run.method}/seed{run.seed} failed to train; see {train_log}')
    run.train_seconds += time.time() - start


def evaluate(run: Run) -> Dict[str, float]:
    """COCO metrics of the final checkpoint, with the student's config minus mmkd's hooks."""
    cfg = Config.fromfile(str(REPO / run.config))
    cfg.work_dir = str(run.path / 'eval')
    cfg.load_from = str(run.final_checkpoint)
    cfg.custom_hooks = [hook for hook in cfg.get('custom_hooks', []) if not hook['type'].startswith('mmkd.')]
    metrics = Runner.from_cfg(cfg).test()
    return {key: float(metrics[f'coco/{key}']) for key in METRICS}


def complete(run: Run) -> Run:
    """Train and evaluate ``run``, or read its stored result."""
    if run.result_file.is_file():
        return Run(**json.loads(run.result_file.read_text()))
    train(run)
    run.metrics = evaluate(run)
    run.result_file.write_text(json.dumps(asdict(run), indent=2))
    log(f'{run.dataset}/{run.method}/seed{run.seed}: bbox_mAP {run.metrics["bbox_mAP"]:.4f}')
    return run


def prepare_teacher(dataset: str, teacher: TrainedModel) -> Run:
    """Train (seed 0), evaluate and publish a teacher where the distill configs read it."""
    run = complete(Run(dataset, TEACHER, 0, teacher.config, teacher.work_dir))
    if not teacher.published.is_file() or teacher.published.stat().st_mtime < run.final_checkpoint.stat().st_mtime:
        publish(run.final_checkpoint, teacher.published)
    return run


def student_run(dataset: Dataset, method: str, seed: int) -> Run:
    config = dataset.student_config if method == BASELINE else dataset.method_configs[method]
    return Run(dataset.name, method, seed, config, str(RUNS_DIR.relative_to(REPO) / dataset.name / method / f'seed{seed}'))


def run_dataset(dataset: Dataset, methods: Sequence[str], seeds: Sequence[int]) -> List[Run]:
    runs = [prepare_teacher(dataset.name, dataset.teacher)]
    for extra in sorted({model for method in methods for model in dataset.extra_teachers.get(method, ())},
                        key=lambda model: model.config):
        prepare_teacher(dataset.name, extra)
    for method in (BASELINE, *methods):
        runs += [complete(student_run(dataset, method, seed)) for seed in seeds]
    return runs


# ---------------------------------------------------------------- reporting

@dataclass
class Summary:
    method: str
    seeds: List[int]
    mean: Dict[str, float]
    spread: float  # max - min of bbox_mAP over seeds
    train_seconds: float  # mean per seed

    @property
    def mAP(self) -> float:
        return self.mean['bbox_mAP']


def summarise(runs: List[Run]) -> List[Summary]:
    by_method: Dict[str, List[Run]] = {}
    for run in runs:
        by_method.setdefault(run.method, []).append(run)
    summaries = []
    for method, group in by_method.items():
        values = [run.metrics['bbox_mAP'] for run in group]
        summaries.append(Summary(
            method, [run.seed for run in group],
            {key: statistics.fmean(run.metrics[key] for run in group) for key in METRICS},
            max(values) - min(values), statistics.fmean(run.train_seconds for run in group)))
    return summaries


def verdict(summary: Summary, baseline: Summary, teacher: Summary) -> Tuple[str, str, str]:
    """(gain, share of the gap closed, whether the gain exceeds both seed spreads)."""
    if summary.method in (TEACHER, BASELINE):
        return '', '', ''
    gain = summary.mAP - baseline.mAP
    gap = teacher.mAP - baseline.mAP
    closed = f'{gain / gap:.0%}' if gap > 0 else 'n/a (teacher not above baseline)'
    if len(summary.seeds) < 2:
        significant = 'one seed: unknown'
    else:
        significant = 'yes' if gain > max(summary.spread, baseline.spread) else 'no'
    return f'{gain:+.4f}', closed, significant


def markdown_table(dataset: Dataset, summaries: List[Summary]) -> str:
    named = {summary.method: summary for summary in summaries}
    baseline, teacher = named[BASELINE], named[TEACHER]
    lines = [f'### {dataset.description}', '',
             '| model | seeds | mAP | spread | AP50 | AP75 | APs | APm | APl | gain | gap closed '
             '| gain > spread | train s |',
             '|---|---|---|---|---|---|---|---|---|---|---|---|---|']
    for summary in summaries:
        mean = summary.mean
        cells = [summary.method, ','.join(map(str, summary.seeds)), f'{summary.mAP:.4f}', f'{summary.spread:.4f}',
                 *(f'{mean[key]:.3f}' for key in METRICS[1:]), *verdict(summary, baseline, teacher),
                 f'{summary.train_seconds:.0f}']
        lines.append('| ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines)


def plot_map(dataset: Dataset, runs: List[Run], summaries: List[Summary], out: Path) -> Path:
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    named = {summary.method: summary for summary in summaries}
    methods = [summary.method for summary in summaries if summary.method not in (TEACHER, BASELINE)]
    figure, axes = plt.subplots(figsize=(1.2 * len(methods) + 3, 4))
    positions = range(len(methods))
    axes.bar(positions, [named[method].mAP for method in methods], color='tab:blue', alpha=0.6, label='distilled (mean)')
    for position, method in zip(positions, methods):
        values = [run.metrics['bbox_mAP'] for run in runs if run.method == method]
        axes.scatter([position] * len(values), values, color='black', s=12, zorder=3)
    baseline_values = [run.metrics['bbox_mAP'] for run in runs if run.method == BASELINE]
    axes.axhspan(min(baseline_values), max(baseline_values), color='tab:orange', alpha=0.2)
    axes.axhline(named[BASELINE].mAP, color='tab:orange', label='baseline student (mean, band = seed range)')
    axes.axhline(named[TEACHER].mAP, color='tab:green', linestyle='--', label='teacher')
    axes.set_xticks(list(positions), methods, rotation=30, ha='right')
    axes.set_ylabel('COCO bbox mAP (val)')
    axes.set_title(dataset.description)
    axes.legend(fontsize=7, loc='lower right')
    figure.tight_layout()
    path = out / f'map_{dataset.name}.png'
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def training_scalars(run: Run) -> List[dict]:
    """Training-iteration scalars MMEngine's LocalVisBackend wrote, over all (resumed) sessions."""
    records = []
    for scalars in sorted(run.path.glob('2*/vis_data/scalars.json')):
        records += [record for record in map(json.loads, scalars.read_text().splitlines()) if 'loss' in record]
    return records


def moving_average(values: List[float], window: int = 5) -> List[float]:
    return [statistics.fmean(values[max(0, i - window + 1):i + 1]) for i in range(len(values))]


def plot_losses(dataset: Dataset, runs: List[Run], out: Path) -> Path:
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    first_seed: Dict[str, Run] = {}
    for run in runs:
        if run.method != TEACHER:
            first_seed.setdefault(run.method, run)
    baseline_keys = {key for record in training_scalars(first_seed[BASELINE]) for key in record
                     if key.startswith('loss_')}
    figure, (detection_axes, distill_axes) = plt.subplots(1, 2, figsize=(11, 4))
    for index, (method, run) in enumerate(first_seed.items()):
        color = f'C{index}'  # one colour per method in both panels
        records = training_scalars(run)
        steps = [record['step'] for record in records]
        detection = [sum(record.get(key, 0.0) for key in baseline_keys) for record in records]
        detection_axes.plot(steps, moving_average(detection), label=method, color=color)
        distill_keys = sorted({key for record in records for key in record
                               if key.startswith('loss_') and key not in baseline_keys})
        if distill_keys:
            total = [sum(record.get(key, 0.0) for key in distill_keys) for record in records]
            distill_axes.plot(steps, moving_average(total), label=method, color=color)
    detection_axes.set_title('detection loss (sum of the baseline\'s loss terms)')
    distill_axes.set_title('distillation loss (weighted, sum of its terms)')
    for axes in (detection_axes, distill_axes):
        axes.set_xlabel('iteration')
        axes.legend(fontsize=7)
    distill_axes.set_yscale('log')
    figure.suptitle(f'{dataset.description}: training losses (first seed of each method, '
                    'moving average of 5 logged points)', fontsize=9)
    figure.tight_layout()
    path = out / f'loss_{dataset.name}.png'
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def report(results: Dict[str, List[Run]], out: Path, command: str) -> str:
    out.mkdir(parents=True, exist_ok=True)
    (out / 'results.json').write_text(json.dumps(
        {name: [asdict(run) for run in runs] for name, runs in results.items()}, indent=2))
    sections = [f'Command: `{command}`', '']
    for name, runs in results.items():
        dataset = DATASETS[name]
        summaries = summarise(runs)
        map_plot = plot_map(dataset, runs, summaries, out)
        loss_plot = plot_losses(dataset, runs, out)
        sections += [markdown_table(dataset, summaries), '',
                     f'![mAP per method]({map_plot.name}) ![training losses]({loss_plot.name})', '']
    text = '\n'.join(sections)
    (out / 'results.md').write_text(text)
    return text


def parse_args(argv: Optional[Sequence[str]]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--set', default='default', choices=sorted(SETS),
                        help='quick: NEON, sigmoid KD, one seed (the demo); default: 5 NEON methods, 2 seeds; '
                             'full: every method and scheme on both datasets')
    parser.add_argument('--datasets', nargs='+', choices=sorted(DATASETS), help='restrict the set to these datasets')
    parser.add_argument('--methods', nargs='+', help='run these methods instead of the set\'s')
    parser.add_argument('--seeds', nargs='+', type=int, help='override the set\'s seeds')
    parser.add_argument('--out', type=Path, default=REPO / 'work_dirs' / 'benchmark',
                        help='where results.json, results.md and the plots go')
    return parser.parse_args(argv)


def plan(args: argparse.Namespace) -> Tuple[Dict[str, Sequence[str]], Sequence[int]]:
    methods_by_dataset, seeds = SETS[args.set]
    if args.datasets:
        methods_by_dataset = {name: methods_by_dataset.get(name, ()) for name in args.datasets}
    if args.methods:
        methods_by_dataset = {name: args.methods for name in methods_by_dataset}
    for name, methods in methods_by_dataset.items():
        unknown = sorted(set(methods) - set(DATASETS[name].method_configs))
        if unknown:
            fail(f'--methods: {", ".join(unknown)} has no config for dataset {name}; '
                 f'choose from {", ".join(DATASETS[name].method_configs)}')
    return methods_by_dataset, args.seeds or seeds


def main(argv: Optional[Sequence[str]] = None) -> None:
    args = parse_args(argv)
    methods_by_dataset, seeds = plan(args)
    for name in methods_by_dataset:
        root = Config.fromfile(str(REPO / DATASETS[name].student_config)).val_dataloader.dataset.data_root
        if not (REPO / root).is_dir():
            fail(f'dataset {name}: {root} is missing; run `make data` first')
    command = 'python tools/benchmark.py ' + ' '.join(sys.argv[1:] if argv is None else argv)
    results = {name: run_dataset(DATASETS[name], methods, seeds) for name, methods in methods_by_dataset.items()}
    text = report(results, args.out, command.strip())
    print('\n' + text)
    log(f'wrote {args.out / "results.json"}, {args.out / "results.md"} and the plots')


if __name__ == '__main__':
    main()
