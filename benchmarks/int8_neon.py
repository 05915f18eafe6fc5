"""INT8 students on NEON over paired seeds: FP32, FP32 distilled, PTQ, QAT without and with KD.

For each seed ``k`` the FP32 rows are the accuracy benchmark's runs of that
seed (``tools/benchmark.py``: the baseline and the pair's distilled student,
sigmoid KD for the default pair, read from their records). The distilled
student's final checkpoint is then

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

``--pair neon_mbv2`` measures the same rows on the MobileNetV2 student (depthwise
convolutions, ReLU6; the benchmark's ``neon_mbv2`` dataset), whose distilled
student and QAT + KD row use CrossKD, the KD established on that pair; records
``<results>/neon_mbv2_int8*/``, checkpoints ``work_dirs/int8_neon/mbv2/``.

    python benchmarks/int8_neon.py [--pair neon_mbv2] [--seeds 0 1 2] [--jobs 2] [--start baseline]
                                   [--schedule full] [--results DIR] [--report-only]
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
    Dataset,
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


@dataclass(frozen=True)
class Schedule:
    """How the two QAT rows are trained: their configs (row -> config), and the suffix of their folders."""
    configs: Dict[str, str]
    suffix: str
    label: str


@dataclass(frozen=True)
class Pair:
    """A teacher-student pair of the accuracy benchmark: its FP32 rows' records, its distilled method (also the KD
    of the QAT + KD row) and the QAT configs of each schedule it has."""
    dataset: Dataset
    distilled: str
    distilled_label: str
    records: str  # the INT8 records' dataset folder (``<results>/<records>...``)
    out: Path  # checkpoints and artifacts
    schedules: Dict[str, Schedule]


@dataclass(frozen=True)
class Start:
    """The FP32 student an INT8 family quantises: the pair's distilled student or its baseline, of each seed."""
    distilled: bool
    suffix: str  # of the records' folder
    subfolder: str  # of the pair's checkpoints and artifacts
    label: str


@dataclass(frozen=True)
class Family:
    """One INT8 table: the pair, the FP32 student it starts from, the QAT schedule, and the records' machine folder."""
    pair: Pair
    start: Start
    schedule: Schedule
    results: Path

    @property
    def method(self) -> str:
        return self.pair.distilled if self.start.distilled else BASELINE

    @property
    def records(self) -> str:
        return self.pair.records + self.start.suffix + self.schedule.suffix

    @property
    def out(self) -> Path:
        return Path(f'{self.pair.out / self.start.subfolder}{self.schedule.suffix}')

    @property
    def label(self) -> str:
        return f'{self.start.label}, {self.schedule.label}'


OUT_DIR = REPO / 'work_dirs' / 'int8_neon'
QUANT_CONFIGS = 'configs/distill/quant'
SHORT, FULL = 'QAT 10 epochs at the final LR', "QAT for the student's 40-epoch schedule"
PAIRS = {
    'neon': Pair(DATASETS['neon'], 'sigmoid_kd', 'sigmoid KD', 'neon_int8', OUT_DIR, {
        'short': Schedule({'qat': f'{QUANT_CONFIGS}/qat_yolox_neon.py',
                           'qat_kd': f'{QUANT_CONFIGS}/qat_sigmoid_kd_yolox_neon.py'}, '', SHORT),
        'full': Schedule({'qat': f'{QUANT_CONFIGS}/qat_full_yolox_neon.py',
                          'qat_kd': f'{QUANT_CONFIGS}/qat_full_sigmoid_kd_yolox_neon.py'}, '_full_schedule', FULL)}),
    # depthwise convolutions and ReLU6, the textbook network INT8 hurts (with per-tensor weights; docs/quantisation.md)
    'neon_mbv2': Pair(DATASETS['neon_mbv2'], 'crosskd', 'CrossKD', 'neon_mbv2_int8', OUT_DIR / 'mbv2', {
        'short': Schedule({'qat': f'{QUANT_CONFIGS}/qat_yolox_mbv2_neon.py',
                           'qat_kd': f'{QUANT_CONFIGS}/qat_crosskd_yolox_mbv2_neon.py'}, '', SHORT)})}
# the distilled student (the table); the baseline student, which the teacher has not taught yet
STARTS = {'distilled': Start(True, '', '', 'distilled student'),
          'baseline': Start(False, '_from_baseline', 'from_baseline', 'FP32 student')}
INT8_ROWS = ('ptq', 'qat', 'qat_kd')  # every schedule's configs train the two QAT rows
REFERENCES = (BASELINE, 'distilled', 'ptq', 'qat')  # the rows each later row is compared with
ROW_NAMES = {BASELINE: 'FP32 student (no KD)', 'ptq': 'PTQ INT8', 'qat': 'QAT INT8 without KD',
             'qat_kd': 'QAT INT8 with KD'}
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


def publish_teacher(pair: Pair, results: Path) -> Run:
    """The benchmark's teacher run of the pair, its weights put where the KD configs read them."""
    dataset = pair.dataset
    teacher = teacher_runs(dataset, [pair.distilled], results)[dataset.teacher]
    publish_teachers([(teacher, dataset.teacher)], results)
    return teacher


def fp32_run(family: Family, seed: int, teacher: Run) -> Run:
    """The benchmark's FP32 run of the family's starting student and ``seed``, trained first when its checkpoint
    is missing."""
    dataset, method = family.pair.dataset, family.method
    teachers = [] if method == BASELINE else [teacher.config_hash]
    run = new_run(dataset, method, seed, method_config(dataset, method), teachers, threads=THREADS)
    record = record_file(family.results, dataset.name, method, seed)
    if not record.is_file() or not run.matches(read_record(record)):
        fail(f'no benchmark record {record} for this config; run `python tools/benchmark.py --datasets '
             f'{dataset.name} --methods {method} --seeds {seed} --jobs 2 --results {family.results}` first')
    train(run)  # nothing to do when its final checkpoint exists
    return run


def check_start(fp32: Run, measured_mAP: float, results: Path) -> None:
    """Stop when the FP32 checkpoint quantised is not the one its record measured: the table pairs the INT8 rows
    with the record's mAP. (A run resumed from a checkpoint without ``mmkd.RandomStateHook``'s state ends
    elsewhere: a NEON baseline resumed at epoch 10 that way ended at mAP 0.074, its record 0.062.)"""
    record = record_file(results, fp32.dataset, fp32.method, fp32.seed)
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
    fp32 = fp32_run(family, seed, teacher)
    out = family.out / f'seed{seed}'
    configs = family.schedule.configs
    calibrated = out / 'ptq_calibrated.pth'
    student_config = family.pair.dataset.student_config  # the distilled student's detector is the student's

    def ptq(again: bool = reevaluate) -> dict:
        summary = deploy(student_config, fp32.final_checkpoint, out / 'ptq.onnx', calibrated, again)
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

    records = [int8_step(family, 'ptq', seed, student_config,
                         f'{fp32.method}/{fp32.config_hash}/seed{seed}', ptq, reevaluate)]
    return records + [int8_step(family, row, seed, configs[row], records[0].config_hash,
                                lambda row=row: qat(row), reevaluate) for row in configs]


# ---------------------------------------------------------------- reporting

def row_maps(seeds: Sequence[int], family: Family) -> Dict[str, Dict[int, float]]:
    """``{row: {seed: mAP}}``: the FP32 rows from the benchmark's records, the INT8 rows from their own."""
    maps: Dict[str, Dict[int, float]] = {}
    fp32_methods = {BASELINE: BASELINE, 'distilled': family.pair.distilled}
    for row in (*fp32_methods, *INT8_ROWS):
        folder, method = ((family.pair.dataset.name, fp32_methods[row]) if row in fp32_methods
                          else (family.records, row))
        files = [record_file(family.results, folder, method, seed) for seed in seeds]
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
    names = {**ROW_NAMES, 'distilled': f'FP32 distilled ({family.pair.distilled_label})'}
    lines = [f'{family.pair.dataset.description}; seeds {list(seeds)}, INT8 rows from the {family.label}: mAP mean '
             '± 95% CI; differences paired by seed (t interval)', '',
             '| model | mAP per seed | mAP | ' + ' | '.join(f'vs {names[reference]}' for reference in REFERENCES)
             + ' | largest INT8 vs fake-quant gap |', '|---|---|---|' + '---|' * (len(REFERENCES) + 1)]
    for row in order:
        columns = [difference(maps, row, reference).format(sign='+')
                   if order.index(row) > order.index(reference) else '' for reference in REFERENCES]
        per_seed = ', '.join(f'{maps[row][seed]:.3f}' for seed in seeds)
        lines.append(f'| {names[row]} | {per_seed} | {t_interval(list(maps[row].values())).format()} | '
                     f'{" | ".join(columns)} | {largest_gap(row, seeds, family)} |')
    return '\n'.join(lines)


def parse_args(argv: Optional[Sequence[str]]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--seeds', nargs='+', type=int, default=[0, 1, 2, 3, 4])
    parser.add_argument('--jobs', type=int, default=2, help='seeds side by side (each step single-threaded)')
    parser.add_argument('--pair', choices=sorted(PAIRS), default='neon',
                        help='the teacher-student pair: the CSPDarknet student (default) or the MobileNetV2 one')
    parser.add_argument('--start', choices=sorted(STARTS), default='distilled',
                        help='the FP32 student the INT8 rows quantise and fine-tune: the distilled student '
                             '(default) or the baseline student, which the teacher has not taught yet')
    parser.add_argument('--schedule', choices=('short', 'full'), default='short',
                        help="the QAT rows' schedule: the 10-epoch fine-tune at the final learning rate (default) "
                             "or the student's whole 40-epoch schedule (--pair neon)")
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
    pair = PAIRS[args.pair]
    if args.schedule not in pair.schedules:
        fail(f'--schedule {args.schedule}: --pair {args.pair} has QAT configs for --schedule '
             f'{" / ".join(pair.schedules)} only')
    family = Family(pair, STARTS[args.start], pair.schedules[args.schedule], args.results.resolve())
    if not args.report_only:
        teacher = publish_teacher(pair, family.results)
        # processes, not threads: mmengine's Config.fromfile is not thread-safe (its first pkg_resources lookups race)
        with ProcessPoolExecutor(args.jobs, mp_context=get_context('spawn')) as pool:
            list(pool.map(partial(run_seed, teacher=teacher, family=family, reevaluate=args.reevaluate), args.seeds))
    print(table(args.seeds, family))


if __name__ == '__main__':
    main()
