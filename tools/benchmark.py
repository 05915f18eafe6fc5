"""Accuracy benchmark: teacher, baseline student and distilled students, over paired seeds.

For each dataset of the chosen set, trains the teacher once (seed 0), then the
baseline student and one distilled student per method for every seed, all with
the same schedule, through ``tools/train.py``; evaluates every final
checkpoint with the configs' ``CocoMetric``. Baseline and method share each
student seed, so the gain of a method is measured per seed (method mAP minus
baseline mAP of the same seed) and summarised by its mean and a 95% t
interval over the seeds; a gain is "established" only when that interval
excludes 0. Writes ``results.json``, ``results.md`` (mean +- 95% CI per model,
paired gain, share of the teacher-baseline gap closed) and PNG plots to
``--out``.

Every finished run leaves a small record, meant to be committed, in
``--results`` (``benchmarks/results/<dataset>/<method>/seed<k>.json``: config
hash, seed, git commit, metrics, training seconds, logged losses). A run whose
record matches its config hash is not trained again; ``--report-only``
rebuilds the tables and plots from the records alone. Checkpoints stay under
``work_dirs/benchmark/runs/<dataset>/<method>/<config hash>/seed<k>`` (an
interrupted run resumes from its last one); the teacher is trained once per
config hash and published where the distillation configs read it.

    python tools/benchmark.py [--set quick|default|full] [--datasets neon synth]
                              [--methods fgd pkd] [--seeds 0 1] [--out DIR]
                              [--results DIR] [--report-only]
"""
import argparse
import hashlib
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from multiprocessing import get_context
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import torch  # noqa: E402
from mmengine.config import Config, DictAction  # noqa: E402
from mmengine.runner import Runner  # noqa: E402
from scipy import stats  # noqa: E402

import mmkd  # noqa: E402,F401
from mmkd.engine.standalone import is_distillation_hook_cfg  # noqa: E402
from mmkd.utils.cli import fail  # noqa: E402
from tools.publish_model import publish  # noqa: E402

RUNS_DIR = REPO / 'work_dirs' / 'benchmark' / 'runs'
RESULTS_DIR = REPO / 'benchmarks' / 'results'
METRICS = ('bbox_mAP', 'bbox_mAP_50', 'bbox_mAP_75', 'bbox_mAP_s', 'bbox_mAP_m', 'bbox_mAP_l')
TEACHER, BASELINE = 'teacher', 'baseline'
TEACHER_SEED = 0
CONFIDENCE = 0.95


@dataclass(frozen=True)
class TrainedModel:
    """A model another run needs: trained once and published as ``teacher.pth`` in ``published_dir``."""
    config: str
    published_dir: str

    @property
    def name(self) -> str:
        return Path(self.config).stem

    @property
    def published(self) -> Path:
        return REPO / self.published_dir / 'teacher.pth'


@dataclass(frozen=True)
class Dataset:
    name: str
    description: str
    teacher: TrainedModel
    student_config: str
    method_configs: Dict[str, str]
    # models besides the teacher that some methods read (multi-teacher, ...)
    extra_teachers: Dict[str, Tuple[TrainedModel, ...]] = field(default_factory=dict)
    # --cfg-options of every student run and its evaluation (another split of the same data)
    options: Tuple[str, ...] = ()
    # the dataset whose teacher run this one reuses instead of training its own
    teacher_of: Optional[str] = None

    @property
    def teacher_dataset(self) -> str:
        """The dataset whose folder holds the teacher's record."""
        return self.teacher_of or self.name

    @property
    def reports_teacher(self) -> bool:
        """Whether its table has the teacher's row and the share of the gap: the teacher's record was evaluated
        on the tiles its students are (no other split in ``options``)."""
        return not (self.teacher_of and self.options)


def _yolox_methods(dataset: str, methods: Sequence[str]) -> Dict[str, str]:
    return {method: f'configs/distill/{method}_yolox_{dataset}.py' for method in methods}


FEATURE_METHODS = ('fgfi', 'defeat', 'gid', 'fgd', 'cwd', 'pkd', 'attention')
RESPONSE_METHODS = ('sigmoid_kd', 'dkd', 'bbox_kd')
CROSS_HEAD_METHODS = ('crosskd', 'bckd')
# the teacher assigns the student's targets (label assignment distillation, no loss of its own), alone and with
# cross-head (and feature) distillation
ASSIGNMENT_METHODS = ('lad', 'lad_crosskd', 'lad_crosskd_fgd')
# the student starts from the teacher's weights (weight selection), alone and before LAD, CrossKD or both
INITIALISATION_METHODS = ('weight_selection', 'weight_selection_lad', 'weight_selection_crosskd',
                          'weight_selection_lad_crosskd')
# weight selection with the selected weights scaled by the fan-in ratio to the power 1 or 1/2 (held-out candidates)
FAN_IN_METHODS = ('weight_selection_fan_in', 'weight_selection_sqrt_fan_in')
# weight selection at the learning-rate factor chosen on held-out tiles ('select_initialisation')
QUARTER_LR_METHOD = 'weight_selection_quarter_lr'
NEON_METHODS = (FEATURE_METHODS + RESPONSE_METHODS + CROSS_HEAD_METHODS + ASSIGNMENT_METHODS + INITIALISATION_METHODS
                + FAN_IN_METHODS + (QUARTER_LR_METHOD, 'fgd_sigmoid_kd'))
SINGLE_TEACHER_SCHEMES = ('mean_teacher', 'snapshot', 'self_d2s', 'online_dml', 'relation', 'adversarial')
MULTI_TEACHER_SCHEMES = ('multi_teacher', 'multi_teacher_confidence', 'multi_teacher_learned', 'multi_teacher_bandit')
SCHEMES = SINGLE_TEACHER_SCHEMES + MULTI_TEACHER_SCHEMES
RTMDET_SYNTH = TrainedModel('configs/rtmdet/rtmdet_teacher_synth.py', 'work_dirs/rtmdet_teacher_synth')
YOLOX_M_SYNTH = TrainedModel('configs/distill/schemes/models/yolox_m_synth.py', 'work_dirs/yolox_m_synth')
# the YOLOX-s teacher of every NEON YOLOX dataset (trained once, by 'neon'; the others name it in teacher_of)
NEON_TEACHER = TrainedModel('configs/yolox/yolox_teacher_neon.py', 'work_dirs/yolox_teacher_neon')
NEON_GFL_TEACHER = TrainedModel('configs/gfl/gfl_teacher_neon.py', 'work_dirs/gfl_teacher_neon')
# the weak teacher of the NEON multi-teacher schemes: NEON_TEACHER's run stopped at 30 of 300 epochs
NEON_EARLY_TEACHER = TrainedModel('configs/distill/schemes/models/yolox_teacher_early_neon.py',
                                  'work_dirs/yolox_teacher_early_neon')
# the assistant of the teacher-assistant chain on NEON: the half-width student distilled from NEON_TEACHER by CrossKD
NEON_ASSISTANT = TrainedModel('configs/distill/crosskd_yolox_neon.py', 'work_dirs/yolox_assistant_neon')
GFL_NEON_METHODS = {method: f'configs/distill/{method}_gfl_neon.py' for method in ('sigmoid_kd',) + CROSS_HEAD_METHODS}

# choosing loss weights: train on 32 train tiles ('train_fit'), evaluate on the other 7 ('train_holdout'), never on val
HOLDOUT_OPTIONS = tuple(f'{key}=annotations/{name}.json' for key, name in (
    ('train_dataloader.dataset.dataset.ann_file', 'train_fit'),
    ('val_dataloader.dataset.ann_file', 'train_holdout'),
    ('test_dataloader.dataset.ann_file', 'train_holdout'))) + tuple(
    f'{key}=data/neon_trees/annotations/train_holdout.json' for key in ('val_evaluator.ann_file',
                                                                    'test_evaluator.ann_file'))

DATASETS = {
    'neon': Dataset(
        'neon', 'NEON tree crowns (real aerial RGB, 1 class), 17 val tiles',
        NEON_TEACHER,
        'configs/yolox/yolox_student_neon.py',
        {**_yolox_methods('neon', NEON_METHODS),
         'fgd_fixed_weight': 'configs/distill/ablations/fgd_fixed_weight_yolox_neon.py',
         **{scheme: f'configs/distill/schemes/{scheme}_yolox_neon.py' for scheme in SCHEMES}},
        extra_teachers={**{scheme: (NEON_EARLY_TEACHER, NEON_GFL_TEACHER) for scheme in MULTI_TEACHER_SCHEMES},
                        'multi_teacher_confidence': (NEON_EARLY_TEACHER,)}),
    'neon_holdout': Dataset(
        'neon_holdout', 'NEON held-out train tiles (weight selection: 32 train tiles fit, 7 held out)',
        NEON_TEACHER,
        'configs/yolox/yolox_student_neon.py',
        _yolox_methods('neon', NEON_METHODS),
        options=HOLDOUT_OPTIONS,
        teacher_of='neon'),
    # the second dense head: the NEON pair with GFL heads in place of YOLOX's
    'neon_gfl': Dataset(
        'neon_gfl', 'NEON tree crowns with GFL heads (the YOLOX pair\'s backbone and neck), 17 val tiles',
        NEON_GFL_TEACHER, 'configs/gfl/gfl_student_neon.py', GFL_NEON_METHODS),
    'neon_gfl_holdout': Dataset(
        'neon_gfl_holdout', 'NEON held-out train tiles with GFL heads (weight selection: 32 fit, 7 held out)',
        NEON_GFL_TEACHER, 'configs/gfl/gfl_student_neon.py', GFL_NEON_METHODS,
        options=HOLDOUT_OPTIONS,
        teacher_of='neon_gfl'),
    # other student architectures under the same NEON teacher (issue 14): a shallower CSPDarknet, and MobileNetV2
    'neon_shallow': Dataset(
        'neon_shallow', 'NEON tree crowns, shallower student (CSPDarknet with 1 CSP block per stage), 17 val tiles',
        NEON_TEACHER,
        'configs/yolox/yolox_student_shallow_neon.py',
        {'crosskd': 'configs/distill/crosskd_yolox_shallow_neon.py'},
        teacher_of='neon'),
    'neon_mbv2': Dataset(
        'neon_mbv2', 'NEON tree crowns, MobileNetV2 student (YOLOX neck and head) of the CSPDarknet teacher, '
        '17 val tiles',
        NEON_TEACHER,
        'configs/yolox/yolox_student_mbv2_neon.py',
        {method: f'configs/distill/{method}_yolox_mbv2_neon.py' for method in ('crosskd', 'fgd', 'fgd_backbone')},
        teacher_of='neon'),
    # the teacher-assistant question: a student at a quarter of the teacher's width, taught by it directly or
    # through the assistant (both CrossKD)
    'neon_narrow': Dataset(
        'neon_narrow', 'NEON tree crowns, narrow student (widen 0.125) taught directly or through an assistant, '
        '17 val tiles',
        NEON_TEACHER,
        'configs/yolox/yolox_student_narrow_neon.py',
        {'crosskd': 'configs/distill/crosskd_yolox_narrow_neon.py',
         'crosskd_from_assistant': 'configs/distill/schemes/ta_student_yolox_neon.py'},
        extra_teachers={'crosskd_from_assistant': (NEON_ASSISTANT,)},
        teacher_of='neon'),
    # snapshot distillation under the cyclic learning rate of its paper, against the same student with that schedule
    'neon_cyclic': Dataset(
        'neon_cyclic', 'NEON tree crowns, the student under a cyclic learning rate (5 cosine cycles), 17 val tiles',
        NEON_TEACHER,
        'configs/yolox/yolox_student_cyclic_neon.py',
        {'snapshot': 'configs/distill/schemes/snapshot_cyclic_yolox_neon.py'},
        teacher_of='neon'),
    # the student trained twice as long (80 epochs), against the same student with that schedule
    'neon_long': Dataset(
        'neon_long', 'NEON tree crowns, the student trained 80 epochs (400 iterations), 17 val tiles',
        NEON_TEACHER,
        'configs/yolox/yolox_student_long_neon.py',
        {'weight_selection': 'configs/distill/weight_selection_long_yolox_neon.py'},
        teacher_of='neon'),
    # a student closer to the teacher: YOLOX-tiny's shape (3/4 of the teacher's width) with the same recipe
    'neon_tiny': Dataset(
        'neon_tiny', 'NEON tree crowns, YOLOX-tiny student (widen 0.375, 3/4 of the teacher\'s width), 17 val tiles',
        NEON_TEACHER,
        'configs/yolox/yolox_student_tiny_neon.py',
        {'weight_selection': 'configs/distill/weight_selection_yolox_tiny_neon.py'},
        teacher_of='neon'),
    'synth': Dataset(
        'synth', 'synthetic shapes (3 classes), 64 val images',
        TrainedModel('configs/yolox/yolox_teacher_synth.py', 'work_dirs/yolox_teacher_synth'),
        'configs/yolox/yolox_student_synth.py',
        {**_yolox_methods('synth', FEATURE_METHODS + RESPONSE_METHODS + ('kd',)),
         **{scheme: f'configs/distill/schemes/{scheme}_yolox_synth.py' for scheme in SCHEMES}},
        extra_teachers={'multi_teacher': (RTMDET_SYNTH,), 'multi_teacher_learned': (RTMDET_SYNTH,),
                        'multi_teacher_confidence': (YOLOX_M_SYNTH,), 'multi_teacher_bandit': (YOLOX_M_SYNTH,)}),
}

# a method variant: fgd@r0.5 is fgd with the distillation hook's balance.target_ratio at 0.5;
# weight_selection@lr0.5 is weight_selection with its learning rate (peak and cosine floor) times 0.5
VARIANT_MARK = '@'
RATIO_MARK = '@r'
LR_MARK = '@lr'
# the ratios tried per held-out dataset and method ('select' set). YOLOX: the response methods, best at 1.0 of
# the two, also at 3.0. GFL: sigmoid KD and BCKD, below the baseline at YOLOX's 1.0, from 1.0 down
# (CrossKD, established at 1.0, is not re-chosen)
SELECTION_RATIOS = {
    'neon_holdout': {'fgd': (0.3, 1.0), 'sigmoid_kd': (0.3, 1.0, 3.0), 'crosskd': (0.3, 1.0, 3.0), 'bckd': (0.3, 1.0)},
    'neon_gfl_holdout': {'sigmoid_kd': (0.1, 0.3, 1.0), 'bckd': (0.1, 0.3, 1.0)},
}
# the learning rates tried for weight selection, as factors of the recipe's ('select_initialisation' set)
LR_FACTORS = (0.5, 0.25)
# set -> dataset -> method -> its seeds; the baseline runs every seed any method of its dataset runs
Plan = Dict[str, Dict[str, Tuple[int, ...]]]
SETS: Dict[str, Plan] = {
    'quick': {'neon': {'sigmoid_kd': (0,)}},
    # NEON only: in its 10-epoch CPU schedule the synthetic-set teacher reaches
    # mAP 0.008 (docs/results.md), too weak a reference for a gap to close
    'default': {'neon': {'sigmoid_kd': (0, 1, 2, 3, 4), 'fgd': (0, 1, 2, 3, 4), 'fgd_sigmoid_kd': (0, 1, 2, 3, 4),
                         'crosskd': (0, 1, 2, 3, 4), 'bckd': (0, 1, 2, 3, 4)}},
    # the other GT-mask feature methods as shipped (the balance at FGD's held-out ratio): DeFeat, FGFI, GID
    'masks': {'neon': {method: (0, 1, 2, 3, 4) for method in ('defeat', 'fgfi', 'gid')}},
    # CrossKD and BCKD on a second dense head (GFL), against the best response method of the YOLOX pair
    # (sigmoid KD at its GFL held-out ratio, and at the YOLOX pair's 1.0, docs/results.md)
    'gfl': {'neon_gfl': {'sigmoid_kd': (0, 1, 2, 3, 4), f'sigmoid_kd{RATIO_MARK}1.0': (0, 1, 2),
                         'crosskd': (0, 1, 2, 3, 4), 'bckd': (0, 1, 2, 3, 4)}},
    # the balance ratios of the NEON configs, chosen on held-out train tiles
    'select': {dataset: {f'{method}{RATIO_MARK}{ratio}': (0,) for method, ratios in grid.items() for ratio in ratios}
               for dataset, grid in SELECTION_RATIOS.items()},
    # students of other architectures, same teacher: CrossKD (the best single method on NEON), and FGD across
    # families, on the neck and on the backbone stages
    'architectures': {'neon_shallow': {'crosskd': (0, 1, 2, 3, 4)},
                      'neon_mbv2': {method: (0, 1, 2, 3, 4) for method in DATASETS['neon_mbv2'].method_configs},
                      'neon_narrow': {'crosskd': (0, 1, 2), 'crosskd_from_assistant': (0, 1, 2)}},
    # label assignment distillation, with CrossKD, and with CrossKD and FGD (recorded on another machine than the
    # default set: --results benchmarks/results_zen4, docs/results.md)
    'assignment': {'neon': {method: (0, 1, 2, 3, 4) for method in ASSIGNMENT_METHODS}},
    # weight selection, alone, with LAD (chosen on held-out tiles by 'select_initialisation'), with CrossKD, with
    # LAD + CrossKD, and with the fan-in scaling chosen there (p = 1/2) (the Zen 4 records, as 'assignment')
    'initialisation': {'neon': {method: (0, 1, 2, 3, 4)
                                for method in INITIALISATION_METHODS + ('weight_selection_sqrt_fan_in',)}},
    # weight selection, the largest single-method gain, and the baseline on seeds 0-9 (Zen 4 records; seeds 5-9
    # added after the 5-seed result, docs/results.md says so)
    'initialisation_ten_seeds': {'neon': {'weight_selection': tuple(range(10))}},
    # weight selection at a quarter of the recipe's learning rate and the baseline at half of it (each the factor
    # with the highest held-out mean in 'select_initialisation'), beside weight selection at the recipe's rate, on
    # the same 10 seeds (records of the machine of benchmarks/results: the session that ran them was moved there)
    'initialisation_lr': {'neon': {method: tuple(range(10)) for method in (
        'weight_selection', QUARTER_LR_METHOD, f'{BASELINE}{LR_MARK}0.5')}},
    # what to add to weight selection, chosen on held-out train tiles (Zen 4 records): LAD, or CrossKD at three
    # ratios (its balance, measured while the student still has the teacher's selected weights, sets the scale)
    # and, on seeds 0-2, weight selection against its fan-in scalings and at a half and a quarter of the recipe's
    # learning rate (a start from trained weights), with the baseline at those rates as the control
    'select_initialisation': {'neon_holdout': {
        'weight_selection': (0, 1, 2), **{method: (0, 1, 2) for method in FAN_IN_METHODS}, 'weight_selection_lad': (0,),
        **{f'{method}{LR_MARK}{factor}': (0, 1, 2)
           for method in ('weight_selection', BASELINE) for factor in LR_FACTORS},
        **{f'weight_selection_crosskd{RATIO_MARK}{ratio}': (0,) for ratio in (0.1, 0.3, 1.0)}}},
    # weight selection and the baseline, both trained twice as long (80 epochs), on the 10 seeds of
    # 'initialisation_lr' (records of the machine of benchmarks/results); set, seeds and schedule fixed before any run
    'long_schedule': {'neon_long': {'weight_selection': tuple(range(10))}},
    # weight selection and the baseline with the YOLOX-tiny student, 3/4 of the teacher's width, on seeds 0-4
    # (records of the machine of benchmarks/results); set, seeds and student fixed before any run
    'tiny_student': {'neon_tiny': {'weight_selection': (0, 1, 2, 3, 4)}},
    # snapshot distillation under its paper's cyclic schedule, against the student with that schedule
    # (--jobs 1, Zen 4 records; the cosine-schedule line is in the 'full' set's neon/snapshot, docs/results.md)
    'snapshot': {'neon_cyclic': {'snapshot': (0, 1, 2)}},
    'full': {name: {method: (0, 1) for method in dataset.method_configs} for name, dataset in DATASETS.items()},
}


@dataclass
class Run:
    """One training run; its fields (less ``work_dir``'s checkpoints) are the committed record."""
    dataset: str
    method: str
    seed: int
    config: str
    work_dir: str
    config_hash: str = ''
    git_commit: str = ''
    train_seconds: float = 0.0
    metrics: Dict[str, float] = field(default_factory=dict)
    # training points MMEngine logged: 'step' and the loss keys of each
    losses: List[Dict[str, float]] = field(default_factory=list)
    # --cfg-options of the run (data split, balance ratio of a variant), part of its config hash
    options: List[str] = field(default_factory=list)
    # torch / OpenMP threads of training and evaluation; 0: torch's default (every core)
    threads: int = 0
    # validation during training: 'step' (epoch) and bbox mAP
    val_curve: List[Dict[str, float]] = field(default_factory=list)
    # with a loss balance: each distillation term's mean over the measured first iterations, as a multiple
    # of the detection loss's (the papers' weights on this pair), and the scale it was fixed at
    balance: Dict[str, Dict[str, float]] = field(default_factory=dict)

    @property
    def path(self) -> Path:
        return REPO / self.work_dir

    @property
    def final_checkpoint(self) -> Path:
        epochs = Config.fromfile(str(REPO / self.config)).train_cfg.max_epochs
        return self.path / f'epoch_{epochs}.pth'

    @property
    def name(self) -> str:
        return f'{self.dataset}/{self.method}/seed{self.seed}'

    def matches(self, stored: 'Run') -> bool:
        """Whether ``stored`` is a record of this run: the same config, options and threads."""
        return (stored.config_hash, stored.threads) == (self.config_hash, self.threads)


def log(message: str) -> None:
    print(f'[benchmark] {message}', flush=True)


def parse_options(options: Sequence[str]) -> Dict[str, object]:
    """``key=value`` strings as tools/train.py's ``--cfg-options`` reads them."""
    return {key: DictAction._parse_iterable(value) for key, value in (option.split('=', 1) for option in options)}


def config_hash(config: str, depends_on: Sequence[str] = (), options: Sequence[str] = ()) -> str:
    """12 hex digits of the resolved config (bases and ``options`` applied), and of the hashes of runs it reads."""
    cfg = Config.fromfile(str(REPO / config))
    cfg.merge_from_dict(parse_options(options))
    resolved = json.dumps(cfg.to_dict(), sort_keys=True, default=repr)
    return hashlib.sha1('\n'.join([resolved, *depends_on]).encode()).hexdigest()[:12]


@lru_cache(maxsize=None)
def git_commit() -> str:
    """HEAD's commit, with ``-dirty`` when tracked files other than the records differ from it."""
    def git(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(['git', *args], cwd=REPO, capture_output=True, text=True)

    head = git('rev-parse', 'HEAD')
    if head.returncode:
        return 'unknown (not a git checkout)'
    dirty = git('diff', '--quiet', 'HEAD', '--', '.', f':(exclude){RESULTS_DIR.relative_to(REPO)}').returncode
    return head.stdout.strip() + ('-dirty' if dirty else '')


def record_file(results_dir: Path, dataset: str, method: str, seed: int) -> Path:
    return results_dir / dataset / method / f'seed{seed}.json'


def read_record(path: Path) -> Run:
    return Run(**json.loads(path.read_text()))


def thread_env(threads: int) -> Dict[str, str]:
    limits = {} if threads == 0 else {name: str(threads) for name in ('OMP_NUM_THREADS', 'MKL_NUM_THREADS')}
    return dict(os.environ, **limits)


def run_logged(command: Sequence[str], log_file: Path, threads: int, what: str) -> None:
    """Run ``command`` in the repository with ``threads`` threads, appending its output to ``log_file``;
    stop with one line naming ``what`` when it fails."""
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with open(log_file, 'a') as stream:
        returncode = subprocess.run(list(command), cwd=REPO, stdout=stream, stderr=subprocess.STDOUT,
                                    env=thread_env(threads)).returncode
    if returncode:
        fail(f'{what} failed; see {log_file}')


def train(run: Run) -> None:
    """Train ``run`` with tools/train.py unless its final checkpoint exists."""
    if run.final_checkpoint.is_file():
        return
    command = [sys.executable, str(REPO / 'tools' / 'train.py'), run.config, '--work-dir', run.work_dir,
               '--cfg-options', f'randomness.seed={run.seed}', *run.options]
    if (run.path / 'last_checkpoint').is_file():
        command.append('--resume')
    train_log = run.path / 'train.log'
    log(f'{run.name}: training, log in {train_log.relative_to(REPO)}')
    start = time.time()
    run_logged(command, train_log, run.threads, f'{run.name} training')
    run.train_seconds += time.time() - start


def evaluate(run: Run) -> Dict[str, float]:
    """COCO metrics of the final checkpoint, with the student's config minus mmkd's hooks."""
    cfg = Config.fromfile(str(REPO / run.config))
    cfg.merge_from_dict(parse_options(run.options))
    cfg.work_dir = str(run.path / 'eval')
    cfg.load_from = str(run.final_checkpoint)
    cfg.custom_hooks = [hook for hook in cfg.get('custom_hooks', []) if not is_distillation_hook_cfg(hook)]
    if run.threads:
        torch.set_num_threads(run.threads)
    metrics = Runner.from_cfg(cfg).test()
    return {key: float(metrics[f'coco/{key}']) for key in METRICS}


def logged_points(run: Run) -> Tuple[List[Dict[str, float]], List[Dict[str, float]]]:
    """What MMEngine's LocalVisBackend wrote over all (resumed) sessions: training losses, val mAP by epoch."""
    losses, val_curve = [], []
    for scalars in sorted(run.path.glob('2*/vis_data/scalars.json')):
        for record in map(json.loads, scalars.read_text().splitlines()):
            if 'loss' in record:  # with the multi-teacher weights (w_<teacher>) and the selector's reward
                losses.append({key: value for key, value in record.items()
                               if key == 'step' or 'loss' in key or key.startswith(('w_', 'teacher_reward'))})
            elif 'coco/bbox_mAP' in record:
                val_curve.append({'step': record['step'], 'bbox_mAP': record['coco/bbox_mAP']})
    return losses, val_curve


def measured_balance(run: Run) -> Dict[str, Dict[str, float]]:
    """``{term: {'measured_ratio', 'scale'}}`` from the final checkpoint's ``mmkd.balance`` state, if any."""
    state = torch.load(run.final_checkpoint, map_location='cpu').get('mmkd', {}).get('balance')
    if not state or state['scales'] is None:
        return {}
    return {term: dict(measured_ratio=total / state['detection_sum'], scale=state['scales'][term])
            for term, total in sorted(state['term_sums'].items())}


def complete(run: Run, results_dir: Path, retrain: bool = False) -> Run:
    """Train and evaluate ``run`` and write its record, or read the record of the same run.

    With ``retrain``, a run that has a record is trained again and compared with it; the record is left as it is.
    """
    record = record_file(results_dir, run.dataset, run.method, run.seed)
    stored = read_record(record) if record.is_file() else None
    if stored is not None and not run.matches(stored):
        log(f'{run.name}: the record is of config {stored.config_hash} with {stored.threads} threads, '
            f'now {run.config_hash} with {run.threads}; training anew')
        stored = None
    if stored is not None and not retrain:
        return stored
    train(run)
    run.metrics = evaluate(run)
    run.losses, run.val_curve = logged_points(run)
    run.balance = measured_balance(run)
    run.git_commit = git_commit()
    if stored is not None:
        verdict = 'reproduces' if run.metrics == stored.metrics else f'differs from ({stored.metrics["bbox_mAP"]:.4f})'
        log(f'{run.name}: bbox_mAP {run.metrics["bbox_mAP"]:.4f} retrained, {verdict} the record {record}')
        return run
    record.parent.mkdir(parents=True, exist_ok=True)
    record.write_text(json.dumps(asdict(run), indent=1))
    log(f'{run.name}: bbox_mAP {run.metrics["bbox_mAP"]:.4f}, record {record}')
    return run


def has_record(run: Run, results_dir: Path) -> bool:
    record = record_file(results_dir, run.dataset, run.method, run.seed)
    return record.is_file() and run.matches(read_record(record))


def new_run(dataset: Dataset, method: str, seed: int, config: str, depends_on: Sequence[str] = (),
            options: Sequence[str] = (), threads: int = 0) -> Run:
    """A run whose checkpoints live under its config hash: a changed config or option trains anew."""
    digest = config_hash(config, depends_on, options)
    work_dir = RUNS_DIR.relative_to(REPO) / dataset.name / method / digest / f'seed{seed}'
    return Run(dataset.name, method, seed, config, str(work_dir), config_hash=digest, options=list(options),
               threads=threads)


def teacher_weights(results_dir: Path, run: Run) -> Path:
    """The teacher's released weights, kept (and committed) beside its record: ``seed<k>.pth``."""
    return record_file(results_dir, run.dataset, run.method, run.seed).with_suffix('.pth')


def publish_teachers(teachers: Sequence[Tuple[Run, TrainedModel]], results_dir: Path) -> None:
    """Put each teacher where the distillation configs read it.

    The weights come from the teacher's final checkpoint when this checkout
    trained it (and are then also written beside its record), else from the
    weights beside its record (a fresh clone: the student runs distil from the
    very teacher the records were made with); a teacher with neither is
    trained first, in its config-hash work_dir.
    """
    for run, model in teachers:
        kept = teacher_weights(results_dir, run)
        if run.final_checkpoint.is_file() or not kept.is_file():
            train(run)  # nothing to do when its final checkpoint exists
            kept.parent.mkdir(parents=True, exist_ok=True)
            publish(run.final_checkpoint, kept)
        model.published.parent.mkdir(parents=True, exist_ok=True)
        # a rename, so that a run of another benchmark process never reads a half-copied file
        partial = model.published.with_suffix(f'.{os.getpid()}.partial')
        shutil.copyfile(kept, partial)
        os.replace(partial, model.published)



def base_method(method: str) -> str:
    """The method a variant (``fgd@r0.5``, ``baseline@lr0.5``) changes; a method that is no variant itself."""
    return method.split(VARIANT_MARK)[0]


def method_config(dataset: Dataset, method: str) -> str:
    """The config of a method, or of the method a variant changes."""
    base = base_method(method)
    return dataset.student_config if base == BASELINE else dataset.method_configs[base]


def variant_options(config: str, method: str) -> List[str]:
    """The ``--cfg-options`` of a variant (none for a plain method): ``@r`` sets the balance ratio, ``@lr`` scales
    the learning rate."""
    if RATIO_MARK in method:
        return ratio_options(config, method, float(method.split(RATIO_MARK)[1]))
    if LR_MARK in method:
        return lr_options(config, float(method.split(LR_MARK)[1]))
    return []


def ratio_options(config: str, method: str, ratio: float) -> List[str]:
    """The option that sets the distillation hook's ``balance.target_ratio`` to ``ratio``."""
    hooks = Config.fromfile(str(REPO / config)).get('custom_hooks', [])
    index = next(index for index, hook in enumerate(hooks) if is_distillation_hook_cfg(hook))
    if 'balance' not in hooks[index]:
        fail(f'{method}: {config} has no balance=dict(target_ratio=..., iters=...) to vary')
    return [f'custom_hooks.{index}.balance.target_ratio={ratio}']


def lr_options(config: str, factor: float) -> List[str]:
    """The options that multiply the optimizer's learning rate and every scheduler's ``eta_min`` by ``factor``
    (the warm-up and constant phases are factors of the learning rate and follow)."""
    cfg = Config.fromfile(str(REPO / config))
    floors = [f'param_scheduler.{index}.eta_min={scheduler.eta_min * factor:g}'
              for index, scheduler in enumerate(cfg.param_scheduler) if 'eta_min' in scheduler]
    return [f'optim_wrapper.optimizer.lr={cfg.optim_wrapper.optimizer.lr * factor:g}', *floors]


def teacher_runs(dataset: Dataset, methods: Sequence[str], results_dir: Path) -> Dict[TrainedModel, Run]:
    """The dataset's teacher (or that of ``teacher_of``) and the extra teachers of ``methods``, each trained once."""
    owner = DATASETS[dataset.teacher_dataset]
    extras = {model for method in methods for model in dataset.extra_teachers.get(base_method(method), ())}
    models = [dataset.teacher] + sorted(extras, key=lambda model: model.config)
    return {model: complete(model_run(model, owner), results_dir) for model in models}


def model_run(model: TrainedModel, owner: Dataset) -> Run:
    """The run that trains ``model``: the teacher run of the dataset it teaches (one record however many datasets
    read it), else a run named after its config under ``owner``."""
    taught = [dataset for dataset in DATASETS.values() if dataset.teacher == model and not dataset.teacher_of]
    if taught:
        return new_run(taught[0], TEACHER, TEACHER_SEED, model.config)
    return new_run(owner, model.name, TEACHER_SEED, model.config)


def with_baseline(seeds_by_method: Dict[str, Sequence[int]]) -> Dict[str, Tuple[int, ...]]:
    """The baseline first, on every seed any method runs, then the methods."""
    union = tuple(sorted({seed for seeds in seeds_by_method.values() for seed in seeds}))
    return {BASELINE: union, **{method: tuple(seeds) for method, seeds in seeds_by_method.items()}}


def run_dataset(dataset: Dataset, seeds_by_method: Dict[str, Sequence[int]], results_dir: Path,
                jobs: int = 1, retrain: bool = False) -> List[Run]:
    """The teacher's run, then the baseline's and each method's for each of its seeds, ``jobs`` at a time.

    ``retrain``: the student runs train even where they have a record, and are compared with it.
    """
    teachers = teacher_runs(dataset, list(seeds_by_method), results_dir)
    threads = 0 if jobs == 1 else max(1, (os.cpu_count() or 1) // jobs)
    runs, needs = [], {}
    for method, seeds in with_baseline(seeds_by_method).items():  # --methods baseline: the baseline alone
        base = base_method(method)
        needed = [] if base == BASELINE else [dataset.teacher, *dataset.extra_teachers.get(base, ())]
        config = method_config(dataset, method)
        options = [*dataset.options, *variant_options(config, method)]
        for seed in seeds:
            runs.append(new_run(dataset, method, seed, config, [teachers[model].config_hash for model in needed],
                                options, threads))
            needs[runs[-1].name] = needed
    pending = [run for run in runs if retrain or not has_record(run, results_dir)]
    needed_models = sorted({model for run in pending for model in needs[run.name]}, key=lambda model: model.config)
    publish_teachers([(teachers[model], model) for model in needed_models], results_dir)
    if jobs == 1:
        students = [complete(run, results_dir, retrain) for run in runs]
    else:
        with ProcessPoolExecutor(jobs, mp_context=get_context('spawn')) as pool:
            students = list(pool.map(complete, runs, [results_dir] * len(runs), [retrain] * len(runs)))
    return ([teachers[dataset.teacher]] if dataset.reports_teacher else []) + students


def stored_runs(dataset: str, seeds_by_method: Dict[str, Sequence[int]], results_dir: Path) -> List[Run]:
    """The records of the teacher and of every (method, seed), for ``--report-only``."""
    spec = DATASETS[dataset]
    teacher = [record_file(results_dir, spec.teacher_dataset, TEACHER, TEACHER_SEED)] if spec.reports_teacher else []
    files = teacher + [record_file(results_dir, dataset, method, seed)
                       for method, seeds in with_baseline(seeds_by_method).items() for seed in seeds]
    missing = [str(path) for path in files if not path.is_file()]
    if missing:
        fail(f'--report-only: no record {", ".join(missing)}; run the benchmark without --report-only first')
    return [read_record(path) for path in files]


# ---------------------------------------------------------------- reporting

@dataclass(frozen=True)
class Interval:
    """Mean of some values and the half width of its t confidence interval (NaN for one value)."""
    mean: float
    half_width: float
    count: int

    @property
    def low(self) -> float:
        return self.mean - self.half_width

    @property
    def high(self) -> float:
        return self.mean + self.half_width

    @property
    def excludes_zero(self) -> bool:
        return self.count > 1 and (self.low > 0 or self.high < 0)

    def format(self, digits: int = 4, sign: str = '') -> str:
        mean = f'{self.mean:{sign}.{digits}f}'
        return mean if self.count < 2 else f'{mean} ± {self.half_width:.{digits}f}'


def t_interval(values: Sequence[float], confidence: float = CONFIDENCE) -> Interval:
    """``mean ± t(1 - (1 - confidence) / 2, n - 1) * s / sqrt(n)``, ``s`` the sample standard deviation."""
    count = len(values)
    mean = statistics.fmean(values)
    if count < 2:
        return Interval(mean, math.nan, count)
    quantile = float(stats.t.ppf(0.5 + confidence / 2, count - 1))
    return Interval(mean, quantile * statistics.stdev(values) / math.sqrt(count), count)


def paired_gains(method: Sequence[Run], baseline: Sequence[Run]) -> Dict[int, float]:
    """``{seed: method mAP - baseline mAP}`` for each seed of the method; each needs a baseline run."""
    by_seed = {name: {} for name in ('method', 'baseline')}
    for name, runs in (('method', method), ('baseline', baseline)):
        for run in runs:
            if run.seed in by_seed[name]:
                raise ValueError(f'{run.method} has two runs of seed {run.seed}')
            by_seed[name][run.seed] = run.metrics['bbox_mAP']
    if not by_seed['method'].keys() <= by_seed['baseline'].keys():
        raise ValueError(f'{method[0].method}: seeds {sorted(by_seed["method"])} but the baseline has '
                         f'{sorted(by_seed["baseline"])}; each seed of a method needs a baseline run of that seed '
                         'to pair with (run the missing ones)')
    return {seed: value - by_seed['baseline'][seed] for seed, value in sorted(by_seed['method'].items())}


@dataclass
class Summary:
    method: str
    seeds: List[int]
    mean: Dict[str, float]
    mAP_interval: Interval
    train_seconds: float  # mean per seed
    gain: Optional[Interval] = None  # paired gain over the baseline (distilled methods)

    @property
    def mAP(self) -> float:
        return self.mean['bbox_mAP']


def by_method(runs: List[Run]) -> Dict[str, List[Run]]:
    """The runs of each method, methods in order of appearance."""
    groups: Dict[str, List[Run]] = {}
    for run in runs:
        groups.setdefault(run.method, []).append(run)
    return groups


def summarise(runs: List[Run]) -> List[Summary]:
    """Per method in order of appearance: means, mAP interval and the paired gain over the baseline."""
    groups = by_method(runs)
    summaries = []
    for method, group in groups.items():
        gain = None
        if method not in (TEACHER, BASELINE):
            gain = t_interval(list(paired_gains(group, groups[BASELINE]).values()))
        summaries.append(Summary(
            method, [run.seed for run in group],
            {key: statistics.fmean(run.metrics[key] for run in group) for key in METRICS},
            t_interval([run.metrics['bbox_mAP'] for run in group]),
            statistics.fmean(run.train_seconds for run in group), gain))
    return summaries


def gap_closed(gain: Interval, baseline: Summary, teacher: Optional[Summary]) -> str:
    """``gain / (teacher mAP - baseline mAP)``, with the interval's ends divided the same way."""
    if teacher is None:
        return 'n/a (no teacher evaluated here)'
    gap = teacher.mAP - baseline.mAP
    if gap <= 0:
        return 'n/a (teacher not above baseline)'
    if gain.count < 2:
        return f'{gain.mean / gap:.0%}'
    return f'{gain.mean / gap:.0%} [{gain.low / gap:.0%}, {gain.high / gap:.0%}]'


def established(interval: Interval) -> str:
    """Whether a paired interval excludes 0: 'yes', 'no' or 'n/a (one seed)'."""
    return 'n/a (one seed)' if interval.count < 2 else ('yes' if interval.excludes_zero else 'no')


def verdict(summary: Summary, baseline: Summary, teacher: Optional[Summary]) -> Tuple[str, str, str]:
    """(paired gain ± CI, share of the gap closed [CI], whether the interval excludes 0)."""
    if summary.gain is None:
        return '', '', ''
    gain = summary.gain
    return gain.format(sign='+'), gap_closed(gain, baseline, teacher), established(gain)


def markdown_table(dataset: Dataset, summaries: List[Summary]) -> str:
    named = {summary.method: summary for summary in summaries}
    baseline, teacher = named[BASELINE], named.get(TEACHER)
    lines = [f'### {dataset.description}', '',
             '| model | seeds | mAP ± 95% CI | AP50 | AP75 | APs | APm | APl | paired gain ± 95% CI '
             '| gap closed [95% CI] | established | train s |',
             '|---|---|---|---|---|---|---|---|---|---|---|---|']
    for summary in summaries:
        mean = summary.mean
        cells = [summary.method, ','.join(map(str, summary.seeds)), summary.mAP_interval.format(),
                 *(f'{mean[key]:.3f}' for key in METRICS[1:]), *verdict(summary, baseline, teacher),
                 f'{summary.train_seconds:.0f}']
        lines.append('| ' + ' | '.join(cells) + ' |')
    lines += ['', f'± is the half width of the {CONFIDENCE:.0%} t interval over seeds. The gain is paired: '
              'method mAP minus baseline mAP of the same seed, averaged over seeds; it is established when '
              'its interval excludes 0. Gap closed: gain / (teacher mAP - baseline mAP), teacher one run.']
    return '\n'.join(lines)


def versus_best(runs: List[Run], summaries: List[Summary]) -> str:
    """Markdown: each other distilled method minus the one with the largest mean paired gain, paired on the
    seeds both ran (mean and 95% t interval); empty with fewer than two distilled methods."""
    distilled = [summary for summary in summaries if summary.gain is not None]
    if len(distilled) < 2:
        return ''
    best = max(distilled, key=lambda summary: summary.gain.mean).method
    groups = by_method(runs)
    lines = [f'Paired against the method with the largest mean gain, {best} (other minus {best}, '
             'on the seeds both ran):', '', '| method | seeds | difference ± 95% CI | interval excludes 0 |',
             '|---|---|---|---|']
    for summary in distilled:
        if summary.method == best:
            continue
        shared = set(summary.seeds) & {run.seed for run in groups[best]}
        differences = paired_gains([run for run in groups[summary.method] if run.seed in shared],
                                   [run for run in groups[best] if run.seed in shared])
        interval = t_interval(list(differences.values())) if differences else None
        cells = ([summary.method, ','.join(map(str, sorted(shared))), interval.format(sign='+'),
                  established(interval)] if interval else [summary.method, 'none shared', '', ''])
        lines.append('| ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines)


def plot_map(dataset: Dataset, runs: List[Run], summaries: List[Summary], out: Path) -> Path:
    """Left: mAP per method (seeds as dots, baseline band, teacher line); right: paired gains with 95% CI."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    named = {summary.method: summary for summary in summaries}
    methods = [summary.method for summary in summaries if summary.gain is not None]
    positions = list(range(len(methods)))
    figure, (map_axes, gain_axes) = plt.subplots(1, 2, figsize=(2.4 * len(methods) + 5, 4))
    map_axes.bar(positions, [named[method].mAP for method in methods], color='tab:blue', alpha=0.6,
                 label='distilled (mean)')
    for position, method in zip(positions, methods):
        values = [run.metrics['bbox_mAP'] for run in runs if run.method == method]
        map_axes.scatter([position] * len(values), values, color='black', s=12, zorder=3)
    baseline_values = [run.metrics['bbox_mAP'] for run in runs if run.method == BASELINE]
    map_axes.axhspan(min(baseline_values), max(baseline_values), color='tab:orange', alpha=0.2)
    map_axes.axhline(named[BASELINE].mAP, color='tab:orange', label='baseline student (mean, band = seed range)')
    if TEACHER in named:
        map_axes.axhline(named[TEACHER].mAP, color='tab:green', linestyle='--', label='teacher')
    map_axes.set_ylabel('COCO bbox mAP (val)')
    map_axes.legend(fontsize=7, loc='lower right')
    baseline = [run for run in runs if run.method == BASELINE]
    for position, method in zip(positions, methods):
        gains = paired_gains([run for run in runs if run.method == method], baseline)
        gain = named[method].gain
        gain_axes.errorbar([position], [gain.mean], yerr=[0.0 if gain.count < 2 else gain.half_width],
                           fmt='o', color='tab:blue', capsize=4)
        gain_axes.scatter([position] * len(gains), list(gains.values()), color='black', s=10, zorder=3)
    gain_axes.axhline(0.0, color='gray', linewidth=1)
    gain_axes.set_ylabel(f'paired mAP gain (mean, {CONFIDENCE:.0%} CI)')
    gain_axes.set_title('method - baseline of the same seed (dots: seeds)', fontsize=8)
    for axes in (map_axes, gain_axes):
        axes.set_xticks(positions, methods, rotation=30, ha='right')
        axes.set_xlim(-0.6, len(methods) - 0.4)
    figure.suptitle(dataset.description, fontsize=9)
    figure.tight_layout()
    path = out / f'map_{dataset.name}.png'
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


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
    baseline_keys = {key for record in first_seed[BASELINE].losses for key in record if key.startswith('loss_')}
    figure, (detection_axes, distill_axes) = plt.subplots(1, 2, figsize=(11, 4))
    for index, (method, run) in enumerate(first_seed.items()):
        color = f'C{index}'  # one colour per method in both panels
        records = run.losses
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


def plot_val_curves(dataset: Dataset, runs: List[Run], out: Path) -> Path:
    """Val mAP by epoch during training: the teacher, and every seed of the baseline student."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(6, 4))
    for run in runs:
        if run.method in (TEACHER, BASELINE) and run.val_curve:
            is_teacher = run.method == TEACHER
            axes.plot([point['step'] for point in run.val_curve], [point['bbox_mAP'] for point in run.val_curve],
                      color='tab:green' if is_teacher else 'tab:orange', marker='o', markersize=3,
                      label='teacher' if is_teacher else f'baseline seed {run.seed}', alpha=1.0 if is_teacher else 0.6)
    axes.set_xlabel('epoch')
    axes.set_ylabel('COCO bbox mAP (val, during training)')
    axes.legend(fontsize=7)
    axes.set_title(f'{dataset.description}: validation during training', fontsize=8)
    figure.tight_layout()
    path = out / f'val_curve_{dataset.name}.png'
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
        curve_plot = plot_val_curves(dataset, runs, out)
        sections += [markdown_table(dataset, summaries), '', versus_best(runs, summaries), '',
                     f'![mAP per method]({map_plot.name}) ![training losses]({loss_plot.name}) '
                     f'![val mAP during training]({curve_plot.name})', '']
    text = '\n'.join(sections)
    (out / 'results.md').write_text(text)
    return text


def parse_args(argv: Optional[Sequence[str]]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--set', default='default', choices=sorted(SETS),
                        help='quick: NEON, sigmoid KD, one seed (the demo); default: NEON, sigmoid KD, CrossKD, BCKD, '
                             'FGD and FGD + sigmoid KD on 5 seeds; masks: DeFeat, FGFI and GID as shipped (5 seeds); '
                             'gfl: CrossKD and BCKD (5 seeds), sigmoid KD '
                             '(5; at 1.0, 3) with GFL heads on NEON; select: the balance ratios on held-out tiles; '
                             'architectures: CrossKD to a shallower CSPDarknet student, CrossKD and FGD on the neck '
                             'and on the backbone stages to a MobileNetV2 student (5 seeds each), a narrow student '
                             'directly and through an assistant (3); '
                             'assignment: label assignment distillation, CrossKD and both together (5 seeds each); '
                             'initialisation: weight selection alone, before LAD, CrossKD and LAD + CrossKD, and '
                             'with fan-in scaling (5 seeds each); initialisation_ten_seeds: weight selection on 10 '
                             'seeds; initialisation_lr: weight selection at a quarter and the baseline at half of the '
                             'learning rate (10 seeds each); select_initialisation: what to add to weight selection '
                             'and its learning rate, on held-out tiles; long_schedule: weight selection and the '
                             'baseline trained 80 epochs instead of 40 (10 seeds); tiny_student: weight selection '
                             'and the baseline with a YOLOX-tiny student, 3/4 of the teacher\'s width (5 seeds); '
                             'snapshot: snapshot distillation under a cyclic schedule (3 seeds); '
                             'full: every method and scheme on every dataset')
    parser.add_argument('--datasets', nargs='+', choices=sorted(DATASETS), help='restrict the set to these datasets')
    parser.add_argument('--methods', nargs='+', help='run these methods instead of the set\'s')
    parser.add_argument('--seeds', nargs='+', type=int,
                        help='run every chosen method on these seeds (default: its seeds in the set, else 0 1 2)')
    parser.add_argument('--out', type=Path, default=REPO / 'work_dirs' / 'benchmark',
                        help='where results.json, results.md and the plots go')
    parser.add_argument('--results', type=Path, default=RESULTS_DIR,
                        help='the per-run records (<dataset>/<method>/seed<k>.json), meant to be committed')
    parser.add_argument('--jobs', type=int, default=1,
                        help='student runs at a time, each with cores / jobs threads (benchmarks/parallel_runs.py '
                             'measures which is faster); records are per thread count')
    parser.add_argument('--retrain', action='store_true',
                        help='train the student runs even where a record exists, and say whether each reproduces it '
                             '(the records stay as they are; the teacher comes from its record and weights; a run '
                             'whose final checkpoint is already under work_dirs is only evaluated again)')
    parser.add_argument('--report-only', action='store_true',
                        help='train nothing: rebuild the tables and plots from the records in --results')
    return parser.parse_args(argv)


DEFAULT_SEEDS = (0, 1, 2)


def plan(args: argparse.Namespace) -> Plan:
    """Dataset -> method -> seeds: the set's, narrowed by ``--datasets``, replaced by ``--methods`` (each with
    its seeds in the set, else ``DEFAULT_SEEDS``) and ``--seeds`` (for every method)."""
    chosen = SETS[args.set]
    if args.datasets:
        chosen = {name: chosen.get(name, {}) for name in args.datasets}
    if args.methods:
        chosen = {name: {method: methods.get(method, DEFAULT_SEEDS) for method in args.methods}
                  for name, methods in chosen.items()}
    if args.seeds:
        chosen = {name: {method: tuple(args.seeds) for method in methods} for name, methods in chosen.items()}
    for name, methods in chosen.items():
        unknown = sorted({base_method(method) for method in methods}
                         - {BASELINE, *DATASETS[name].method_configs})
        if unknown:
            fail(f'--methods: {", ".join(unknown)} has no config for dataset {name}; '
                 f'choose from {", ".join(DATASETS[name].method_configs)}')
    return chosen


def check_data(datasets: Sequence[str]) -> None:
    for name in datasets:
        root = Config.fromfile(str(REPO / DATASETS[name].student_config)).val_dataloader.dataset.data_root
        if not (REPO / root).is_dir():
            fail(f'dataset {name}: {root} is missing; run `make data` first')


def main(argv: Optional[Sequence[str]] = None) -> None:
    args = parse_args(argv)
    chosen = plan(args)
    if args.report_only:
        results = {name: stored_runs(name, seeds_by_method, args.results) for name, seeds_by_method in chosen.items()}
    else:
        check_data(list(chosen))
        results = {name: run_dataset(DATASETS[name], seeds_by_method, args.results, args.jobs, args.retrain)
                   for name, seeds_by_method in chosen.items()}
    command = 'python tools/benchmark.py ' + ' '.join(sys.argv[1:] if argv is None else argv)
    try:
        text = report(results, args.out, command.strip())
    except ValueError as error:  # unpaired seeds among the records
        fail(str(error))
    print('\n' + text)
    log(f'wrote {args.out / "results.json"}, {args.out / "results.md"} and the plots')


if __name__ == '__main__':
    main()
