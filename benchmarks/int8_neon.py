"""INT8 students on NEON over paired seeds: FP32, FP32 distilled, PTQ, QAT without and with KD.

For each seed ``k`` the FP32 rows are the accuracy benchmark's runs of that
seed (``tools/benchmark.py``: the baseline and the sigmoid-KD student, read
from their records). The distilled student's final checkpoint is then

- quantised after training (PTQ): ``tools/deploy.py`` calibrates it on the
  training images, exports the INT8 ONNX artifact and evaluates it;
- fine-tuned fake-quantised from that calibrated checkpoint for the QAT
  schedule (``configs/distill/quant/``), once without distillation and once
  under the FP32 teacher (the same ``mmkd.DistillationHook`` entries as the
  FP32 distilled student), and each result exported and evaluated the same way.

Every INT8 row's mAP is that of the ONNX Runtime artifact (integer kernels),
evaluated with the config's CocoMetric on the val tiles. Each finished step
leaves a record ``benchmarks/results/neon_int8/<row>/seed<k>.json`` (config
hash, commit, the fake-quant and artifact metrics, artifact size, seconds);
a step whose record matches its config hash is not run again, and
``--report-only`` prints the table from the records alone. Checkpoints and
artifacts stay under ``work_dirs/int8_neon/seed<k>/``. A missing FP32
checkpoint (a fresh clone) is trained first, as the benchmark would.

``--start baseline`` runs the same three INT8 rows from each seed's baseline
student (no KD) instead, into ``benchmarks/results/neon_int8_from_baseline/``:
there the teacher of the QAT + KD row has not taught the student yet.
``--schedule full`` trains both QAT rows for the student's whole 40-epoch
schedule (``configs/distill/quant/qat_full_*.py``) instead of the 10-epoch
fine-tune, into ``<records>_full_schedule/``. ``--results`` picks the records
of the machine the runs are made on (``benchmarks/results_zen4``), as in
``tools/benchmark.py``.

    python benchmarks/int8_neon.py [--seeds 0 1 2] [--jobs 2] [--start baseline] [--schedule full]
                                   [--results DIR] [--report-only]
"""
import argparse
import json
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from functools import partial
from multiprocessing import get_context
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from mmengine.config import Config  # noqa: E402

from mmkd.utils.cli import fail  # noqa: E402
from tools.benchmark import (  # noqa: E402
    BASELINE,
    DATASETS,
    RESULTS_DIR,
    Interval,
    Run,
    config_hash,
    git_commit,
    log,
    method_config,
    new_run,
    publish_teachers,
    read_record,
    record_file,
    run_logged,
    t_interval,
    teacher_runs,
    train,
)

DATASET = DATASETS['neon']
DISTILLED = 'sigmoid_kd'  # the FP32 distilled student, and the KD of the QAT + KD row


@dataclass(frozen=True)
class Start:
    """The FP32 student an INT8 family quantises: a benchmark method's run of each seed."""
    method: str
    records: str  # the INT8 records' dataset folder (``<results>/<records>/<row>/seed<k>.json``)
    out: Path  # checkpoints and artifacts: ``<out>/seed<k>/``
    label: str


@dataclass(frozen=True)
class Schedule:
    """How the two QAT rows are trained: their configs (row -> config), and the suffix of their folders."""
    configs: Dict[str, str]
    suffix: str
    label: str


@dataclass(frozen=True)
class Family:
    """One INT8 table: the FP32 student it starts from, the QAT schedule, and the records' machine folder."""
    start: Start
    schedule: Schedule
    results: Path

    @property
    def records(self) -> str:
        return self.start.records + self.schedule.suffix

    @property
    def out(self) -> Path:
        return Path(f'{self.start.out}{self.schedule.suffix}')

    @property
    def label(self) -> str:
        return f'{self.start.label}, {self.schedule.label}'


OUT_DIR = REPO / 'work_dirs' / 'int8_neon'
# the distilled student (the table); the baseline student, which the teacher has not taught yet
STARTS = {'distilled': Start(DISTILLED, 'neon_int8', OUT_DIR, 'distilled student'),
          'baseline': Start(BASELINE, 'neon_int8_from_baseline', OUT_DIR / 'from_baseline', 'FP32 student')}
QUANT_CONFIGS = 'configs/distill/quant'
SCHEDULES = {
    'short': Schedule({'qat': f'{QUANT_CONFIGS}/qat_yolox_neon.py',
                       'qat_kd': f'{QUANT_CONFIGS}/qat_sigmoid_kd_yolox_neon.py'}, '', 'QAT 10 epochs at the final LR'),
    'full': Schedule({'qat': f'{QUANT_CONFIGS}/qat_full_yolox_neon.py',
                      'qat_kd': f'{QUANT_CONFIGS}/qat_full_sigmoid_kd_yolox_neon.py'}, '_full_schedule',
                     "QAT for the student's 40-epoch schedule")}
INT8_ROWS = ('ptq', *SCHEDULES['short'].configs)  # every schedule trains the same two QAT rows
REFERENCES = (BASELINE, DISTILLED, 'ptq', 'qat')  # the rows each later row is compared with
ROW_NAMES = {BASELINE: 'FP32 student (no KD)', DISTILLED: 'FP32 distilled (sigmoid KD)',
             'ptq': 'PTQ INT8', 'qat': 'QAT INT8 without KD', 'qat_kd': 'QAT INT8 with KD'}
THREADS = 1  # every step single-threaded: --jobs seeds side by side, as the benchmark's records were made


@dataclass
class Int8Record:
    """One INT8 step of one seed: what ``tools/deploy.py`` measured on its artifact."""
    row: str
    seed: int
    config: str
    config_hash: str
    depends_on: str  # the run it quantised or fine-tuned (its config hash)
    git_commit: str = ''
    seconds: float = 0.0
    fake_quant_mAP: float = 0.0  # the PyTorch fake-quantised model
    mAP: float = 0.0  # the INT8 ONNX Runtime artifact
    artifact_bytes: int = 0
    metrics: Dict[str, float] = field(default_factory=dict)  # the artifact's COCO metrics


def run_tool(command: Sequence[str], log_file: Path) -> None:
    """``python TOOL ARGS...`` single-threaded, its output appended to ``log_file``."""
    run_logged([sys.executable, *command], log_file, THREADS, ' '.join(command[:2]))


def deploy(config: str, checkpoint: Path, out: Path, save_calibrated: Optional[Path] = None,
           again: bool = False) -> dict:
    """``tools/deploy.py CONFIG CHECKPOINT --int8 OUT`` unless done (or ``again``); its summary (``OUT.json``)."""
    summary = Path(f'{out}.json')
    if again or not summary.is_file() or (save_calibrated and not save_calibrated.is_file()):
        extra = ['--save-calibrated', str(save_calibrated)] if save_calibrated else []
        # the gap to the fake-quantised model is recorded and shown in the table, not a reason to stop
        run_tool(['tools/deploy.py', config, str(checkpoint), '--int8', str(out), '--threads', str(THREADS),
                  '--max-map-gap', '1', *extra], out.with_suffix('.log'))
    return json.loads(summary.read_text())


def publish_teacher(results: Path) -> Run:
    """The benchmark's NEON teacher run, its weights put where the KD configs read them."""
    teacher = teacher_runs(DATASET, [DISTILLED], results)[DATASET.teacher]
    publish_teachers([(teacher, DATASET.teacher)], results)
    return teacher


def fp32_run(method: str, seed: int, teacher: Run, results: Path) -> Run:
    """The benchmark's FP32 run of ``method`` and ``seed``, trained first when its checkpoint is missing."""
    teachers = [] if method == BASELINE else [teacher.config_hash]
    run = new_run(DATASET, method, seed, method_config(DATASET, method), teachers, threads=THREADS)
    record = record_file(results, DATASET.name, method, seed)
    if not record.is_file() or not run.matches(read_record(record)):
        fail(f'no benchmark record {record} for this config; run `python tools/benchmark.py --methods {method} '
             f'--seeds {seed} --jobs 2 --results {results}` first')
    train(run)  # nothing to do when its final checkpoint exists
    return run


def check_start(fp32: Run, measured_mAP: float, results: Path) -> None:
    """Stop when the FP32 checkpoint quantised is not the one its record measured: the table pairs the INT8 rows
    with the record's mAP. (A run resumed mid-way ends elsewhere: MMEngine's resume does not restore the
    augmentations' random state; a NEON baseline resumed at epoch 10 ended at mAP 0.074, its record 0.062.)"""
    record = record_file(results, DATASET.name, fp32.method, fp32.seed)
    recorded_mAP = read_record(record).metrics['bbox_mAP']
    if measured_mAP != recorded_mAP:
        fail(f'{fp32.final_checkpoint} gives mAP {measured_mAP:.3f}, its record {record} {recorded_mAP:.3f} '
             f'(a resumed run?); delete {fp32.work_dir} and run again to train it uninterrupted')


def int8_step(family: Family, row: str, seed: int, config: str, depends_on: str, step: Callable[[], dict],
              reevaluate: bool = False) -> Int8Record:
    """The record of ``row``/``seed``, made by ``step()`` (returning deploy's summary) unless it exists.

    ``reevaluate``: an existing record's artifact and fake-quantised model are exported and evaluated
    again from its checkpoints (``step`` trains nothing when they exist); its ``seconds`` are kept.
    """
    path = record_file(family.results, family.records, row, seed)
    record = Int8Record(row, seed, config, config_hash(config, [depends_on]), depends_on)
    stored = Int8Record(**json.loads(path.read_text())) if path.is_file() else None
    if stored and stored.config_hash == record.config_hash and not reevaluate:
        return stored
    began = time.time()
    summary = step()
    record.seconds = stored.seconds if stored and reevaluate else time.time() - began
    record.git_commit = git_commit()
    record.fake_quant_mAP = summary['pytorch_metrics'].get('coco/bbox_mAP', 0.0)
    record.metrics = {key.split('/')[-1]: value for key, value in summary['onnx_metrics'].items()}
    record.mAP = record.metrics.get('bbox_mAP', 0.0)
    record.artifact_bytes = summary['artifact_bytes']
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(asdict(record), indent=1))
    log(f'{family.records}/{row}/seed{seed}: INT8 mAP {record.mAP:.4f} (fake-quant {record.fake_quant_mAP:.4f}), '
        f'record {path.relative_to(REPO)}')
    return record


def run_seed(seed: int, teacher: Run, family: Family, reevaluate: bool = False) -> List[Int8Record]:
    """PTQ of the seed's starting student, then QAT without and with KD from its calibrated checkpoint."""
    fp32 = fp32_run(family.start.method, seed, teacher, family.results)
    out = family.out / f'seed{seed}'
    configs = family.schedule.configs
    calibrated = out / 'ptq_calibrated.pth'

    def ptq(again: bool = reevaluate) -> dict:
        summary = deploy(DATASET.student_config, fp32.final_checkpoint, out / 'ptq.onnx', calibrated, again)
        check_start(fp32, summary['float_metrics']['coco/bbox_mAP'], family.results)
        return summary

    def qat(row: str) -> dict:
        ptq(again=False)  # the calibrated checkpoint it starts from (no-op when present)
        work_dir = out / row
        final = work_dir / f'epoch_{Config.fromfile(str(REPO / configs[row])).train_cfg.max_epochs}.pth'
        if not final.is_file():
            run_tool(['tools/train.py', configs[row], '--work-dir', str(work_dir), '--cfg-options',
                      f'load_from={calibrated}', f'randomness.seed={seed}'], work_dir / 'train.log')
        return deploy(configs[row], final, work_dir / 'int8.onnx', again=reevaluate)

    records = [int8_step(family, 'ptq', seed, DATASET.student_config,
                         f'{fp32.method}/{fp32.config_hash}/seed{seed}', ptq, reevaluate)]
    return records + [int8_step(family, row, seed, configs[row], records[0].config_hash,
                                lambda row=row: qat(row), reevaluate) for row in configs]


# ---------------------------------------------------------------- reporting

def row_maps(seeds: Sequence[int], family: Family) -> Dict[str, Dict[int, float]]:
    """``{row: {seed: mAP}}``: the FP32 rows from the benchmark's records, the INT8 rows from their own."""
    maps: Dict[str, Dict[int, float]] = {}
    for row in (BASELINE, DISTILLED, *INT8_ROWS):
        dataset = DATASET.name if row in (BASELINE, DISTILLED) else family.records
        files = [record_file(family.results, dataset, row, seed) for seed in seeds]
        missing = [str(path.relative_to(REPO)) for path in files if not path.is_file()]
        if missing:
            fail(f'--report-only: no record {", ".join(missing)}; run benchmarks/int8_neon.py without it first')
        maps[row] = {seed: json.loads(path.read_text())['metrics']['bbox_mAP'] for seed, path in zip(seeds, files)}
    return maps


def difference(maps: Dict[str, Dict[int, float]], row: str, reference: str) -> Interval:
    """``row``'s mAP minus ``reference``'s, paired by seed: mean and 95% t interval."""
    return t_interval([maps[row][seed] - maps[reference][seed] for seed in maps[row]])


def largest_gap(row: str, seeds: Sequence[int], family: Family) -> str:
    """The largest |artifact mAP - fake-quantised mAP| of an INT8 row over ``seeds`` (deploy's bound: 0.005)."""
    if row not in INT8_ROWS:
        return ''
    records = [Int8Record(**json.loads(record_file(family.results, family.records, row, seed).read_text()))
               for seed in seeds]
    return f'{max(abs(record.mAP - record.fake_quant_mAP) for record in records):.3f}'


def table(seeds: Sequence[int], family: Family) -> str:
    """Markdown: each row's mAP per seed and mean, its paired difference to each reference row above it,
    and for the INT8 rows the largest gap between the artifact and the fake-quantised model."""
    maps = row_maps(seeds, family)
    order = list(maps)
    lines = [f'NEON, seeds {list(seeds)}, INT8 rows from the {family.label}: mAP mean ± 95% CI; differences '
             'paired by seed (t interval)', '',
             '| model | mAP per seed | mAP | ' + ' | '.join(f'vs {ROW_NAMES[reference]}' for reference in REFERENCES)
             + ' | largest INT8 vs fake-quant gap |', '|---|---|---|' + '---|' * (len(REFERENCES) + 1)]
    for row in order:
        columns = [difference(maps, row, reference).format(sign='+')
                   if order.index(row) > order.index(reference) else '' for reference in REFERENCES]
        per_seed = ', '.join(f'{maps[row][seed]:.3f}' for seed in seeds)
        lines.append(f'| {ROW_NAMES[row]} | {per_seed} | {t_interval(list(maps[row].values())).format()} | '
                     f'{" | ".join(columns)} | {largest_gap(row, seeds, family)} |')
    return '\n'.join(lines)


def parse_args(argv: Optional[Sequence[str]]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--seeds', nargs='+', type=int, default=[0, 1, 2, 3, 4])
    parser.add_argument('--jobs', type=int, default=2, help='seeds side by side (each step single-threaded)')
    parser.add_argument('--start', choices=sorted(STARTS), default='distilled',
                        help='the FP32 student the INT8 rows quantise and fine-tune: the distilled student '
                             '(default) or the baseline student, which the teacher has not taught yet')
    parser.add_argument('--schedule', choices=sorted(SCHEDULES), default='short',
                        help="the QAT rows' schedule: the 10-epoch fine-tune at the final learning rate (default) "
                             "or the student's whole 40-epoch schedule")
    parser.add_argument('--results', type=Path, default=RESULTS_DIR,
                        help="the records' folder: that of the machine the runs are made on (docs/results.md)")
    parser.add_argument('--report-only', action='store_true', help='print the table from the records alone')
    parser.add_argument('--reevaluate', action='store_true',
                        help='export and evaluate every recorded artifact and its fake-quantised model again from '
                             'the existing checkpoints (after a change of the quantised modules), rewriting the '
                             'records; nothing is retrained where the checkpoints exist')
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> None:
    args = parse_args(argv)
    family = Family(STARTS[args.start], SCHEDULES[args.schedule], args.results.resolve())
    if not args.report_only:
        teacher = publish_teacher(family.results)
        # processes, not threads: mmengine's Config.fromfile is not thread-safe (its first pkg_resources lookups race)
        with ProcessPoolExecutor(args.jobs, mp_context=get_context('spawn')) as pool:
            list(pool.map(partial(run_seed, teacher=teacher, family=family, reevaluate=args.reevaluate), args.seeds))
    print(table(args.seeds, family))


if __name__ == '__main__':
    main()
