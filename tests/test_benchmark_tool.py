"""tools/benchmark.py: paired statistics, tables, plots, run records and --report-only (no training)."""
import json
import math
import sys
from dataclasses import replace as dataclass_replace
from pathlib import Path
from typing import Tuple

import pytest

from mmkd.engine.standalone import distillation_hook_cfg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tools import benchmark  # noqa: E402

NEON = benchmark.DATASETS['neon']
# Student's t quantiles for a 95% two-sided interval, from a printed t table
T_975 = {1: 12.7062, 2: 4.3027}


def make_run(method: str, seed: int, mAP: float, work_dir: str = 'unused') -> benchmark.Run:
    metrics = {key: mAP for key in benchmark.METRICS}
    losses = [dict(step=step, loss=2.0 - step / 10, loss_cls=1.0 - step / 20) for step in range(5)]
    if method not in ('teacher', 'baseline'):
        losses = [dict(point, loss_neck=0.5 / (1 + point['step'])) for point in losses]
    return benchmark.Run('neon', method, seed, 'unused.py', work_dir, config_hash='abc', git_commit='0' * 40,
                         train_seconds=10.0 * (seed + 1), metrics=metrics, losses=losses)


@pytest.fixture
def runs():
    return [make_run('teacher', 0, 0.30),
            make_run('baseline', 0, 0.20), make_run('baseline', 1, 0.22),
            make_run('fgd', 0, 0.26), make_run('fgd', 1, 0.27),
            make_run('pkd', 0, 0.20), make_run('pkd', 1, 0.24)]


def named(runs):
    return {summary.method: summary for summary in benchmark.summarise(runs)}


def test_summary_means_and_the_map_interval(runs):
    summaries = named(runs)
    baseline = summaries['baseline']
    assert baseline.mAP == pytest.approx(0.21)
    # stdev of (0.20, 0.22) is 0.02 / sqrt(2); half width t * s / sqrt(2) = t * 0.01
    assert baseline.mAP_interval.half_width == pytest.approx(T_975[1] * 0.01, rel=1e-4)
    assert summaries['fgd'].seeds == [0, 1] and summaries['fgd'].train_seconds == pytest.approx(15.0)
    assert summaries['teacher'].gain is None and math.isnan(summaries['teacher'].mAP_interval.half_width)


def test_paired_gain_interval_equals_the_hand_computed_one():
    # docs/results.md's three seeds of sigmoid KD against the baseline of the same seed
    baseline = [make_run('baseline', seed, value) for seed, value in enumerate((0.047, 0.061, 0.079))]
    method = [make_run('sigmoid_kd', seed, value) for seed, value in enumerate((0.089, 0.053, 0.111))]
    # differences 0.042, -0.008, 0.032: mean 0.022, deviations 0.02, -0.03, 0.01,
    # s = sqrt((4 + 9 + 1) e-4 / 2) = sqrt(7e-4), half width = t(2) * s / sqrt(3)
    gains = benchmark.paired_gains(method, baseline)
    assert gains == pytest.approx({0: 0.042, 1: -0.008, 2: 0.032})
    gain = named([make_run('teacher', 0, 0.09), *baseline, *method])['sigmoid_kd'].gain
    assert gain.mean == pytest.approx(0.022)
    assert gain.half_width == pytest.approx(T_975[2] * math.sqrt(7e-4) / math.sqrt(3), rel=1e-4)
    assert gain.count == 3 and not gain.excludes_zero


def test_established_only_when_the_interval_excludes_zero():
    def verdict(*method_maps):
        runs = [make_run('teacher', 0, 0.5), *(make_run('baseline', seed, 0.2) for seed in range(len(method_maps))),
                *(make_run('m', seed, value) for seed, value in enumerate(method_maps))]
        summaries = named(runs)
        return benchmark.verdict(summaries['m'], summaries['baseline'], summaries['teacher'])

    gain, closed, established = verdict(0.25, 0.26, 0.255)  # gains 0.05, 0.06, 0.055
    half = T_975[2] * 0.005 / math.sqrt(3)
    assert gain == f'+0.0550 ± {half:.4f}' and established == 'yes'
    assert closed == f'18% [{(0.055 - half) / 0.3:.0%}, {(0.055 + half) / 0.3:.0%}]'
    assert verdict(0.15, 0.14, 0.16)[2] == 'yes'  # an established loss
    assert verdict(0.30, 0.19)[2] == 'no'  # mean +0.045, but the interval spans 0
    assert verdict(0.30) == ('+0.1000', '33%', 'n/a (one seed)')


def test_pairing_refuses_unpaired_or_repeated_seeds():
    baseline = [make_run('baseline', 0, 0.2), make_run('baseline', 2, 0.2)]
    with pytest.raises(ValueError, match=r'fgd: seeds \[0, 1\] but the baseline has \[0, 2\]'):
        benchmark.paired_gains([make_run('fgd', 0, 0.3), make_run('fgd', 1, 0.3)], baseline)
    with pytest.raises(ValueError, match='two runs of seed 0'):
        benchmark.paired_gains([make_run('fgd', 0, 0.3), make_run('fgd', 0, 0.3)], baseline[:1])
    # a baseline with more seeds than the method pairs on the method's seeds
    assert benchmark.paired_gains([make_run('fgd', 2, 0.3)], baseline) == {2: pytest.approx(0.1)}


def test_the_plan_gives_each_method_its_seeds_and_the_baseline_their_union():
    default = benchmark.plan(benchmark.parse_args([]))
    assert default == {'neon': {'sigmoid_kd': (0, 1, 2, 3, 4), 'fgd': (0, 1, 2, 3, 4),
                                'fgd_sigmoid_kd': (0, 1, 2, 3, 4), 'crosskd': (0, 1, 2, 3, 4), 'bckd': (0, 1, 2, 3, 4)}}
    assert benchmark.with_baseline(default['neon'])['baseline'] == (0, 1, 2, 3, 4)
    assert benchmark.plan(benchmark.parse_args(['--methods', 'fgd', 'pkd'])) == {
        'neon': {'fgd': (0, 1, 2, 3, 4), 'pkd': benchmark.DEFAULT_SEEDS}}
    assert benchmark.plan(benchmark.parse_args(['--methods', 'fgd', '--seeds', '7'])) == {'neon': {'fgd': (7,)}}


def test_teacher_below_baseline_reports_no_gap():
    summaries = named([make_run('teacher', 0, 0.1), make_run('baseline', 0, 0.2), make_run('fgd', 0, 0.25)])
    _, closed, _ = benchmark.verdict(summaries['fgd'], summaries['baseline'], summaries['teacher'])
    assert closed.startswith('n/a')


def test_markdown_table_shows_mean_and_interval_per_model(runs):
    table = benchmark.markdown_table(NEON, benchmark.summarise(runs))
    rows = [line for line in table.splitlines() if line.startswith('| ') and not line.startswith('| model')]
    assert [row.split(' | ')[0].strip('| ') for row in rows] == ['teacher', 'baseline', 'fgd', 'pkd']
    assert '| teacher | 0 | 0.3000 |' in table
    assert f'| fgd | 0,1 | 0.2650 ± {T_975[1] * 0.005:.4f} |' in table
    assert '| +0.0550 ± ' in table  # fgd's paired gains 0.06 and 0.05


def write_records(results_dir: Path, runs) -> None:
    for run in runs:
        path = benchmark.record_file(results_dir, run.dataset, run.method, run.seed)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(benchmark.asdict(run)))


def test_report_only_rebuilds_tables_and_plots_from_the_records(tmp_path, runs, monkeypatch):
    monkeypatch.setattr(benchmark, 'train', lambda run: pytest.fail('--report-only trained'))
    write_records(tmp_path / 'results', runs)
    out = tmp_path / 'out'
    benchmark.main(['--report-only', '--methods', 'fgd', 'pkd', '--seeds', '0', '1',
                    '--results', str(tmp_path / 'results'), '--out', str(out)])
    text = (out / 'results.md').read_text()
    assert text.startswith('Command: `python tools/benchmark.py --report-only --methods fgd pkd')
    summaries = benchmark.summarise(runs)
    assert text == '\n'.join([text.splitlines()[0], '', benchmark.markdown_table(NEON, summaries),
                              '', benchmark.versus_best(runs, summaries), '',
                              '![mAP per method](map_neon.png) ![training losses](loss_neon.png) '
                              '![val mAP during training](val_curve_neon.png)', ''])
    stored = json.loads((out / 'results.json').read_text())
    assert [run['method'] for run in stored['neon']] == [run.method for run in runs]
    for name in ('map_neon.png', 'loss_neon.png', 'val_curve_neon.png'):
        assert (out / name).read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'


def test_report_only_reads_the_owners_teacher_where_the_students_share_its_val_tiles(tmp_path, runs):
    teacher, students = runs[0], [dataclass_replace(run, dataset='neon_long') for run in runs[1:3]]
    write_records(tmp_path, [teacher, *students])
    long_schedule = benchmark.stored_runs('neon_long', {'baseline': (0, 1)}, tmp_path)
    assert long_schedule == [teacher, *students]  # the teacher's record from neon/, the students' from neon_long/
    write_records(tmp_path, [dataclass_replace(run, dataset='neon_holdout') for run in runs[1:3]])
    holdout = benchmark.stored_runs('neon_holdout', {'baseline': (0, 1)}, tmp_path)
    assert [run.method for run in holdout] == ['baseline', 'baseline']  # evaluated on other tiles: no gap to it


def test_report_only_names_missing_records(tmp_path, runs, capsys):
    write_records(tmp_path, runs)
    with pytest.raises(SystemExit):
        benchmark.main(['--report-only', '--methods', 'fgd', '--seeds', '0', '1', '2', '--results', str(tmp_path)])
    error = capsys.readouterr().err
    assert 'no record' in error and str(benchmark.record_file(tmp_path, 'neon', 'baseline', 2)) in error


def test_a_record_of_the_same_config_is_read_back_and_another_config_trains_anew(tmp_path, monkeypatch):
    trained = []
    monkeypatch.setattr(benchmark, 'train', trained.append)
    monkeypatch.setattr(benchmark, 'evaluate', lambda run: {key: 0.4 for key in benchmark.METRICS})
    monkeypatch.setattr(benchmark, 'logged_points',
                        lambda run: ([dict(step=1, loss=1.0)], [dict(step=10, bbox_mAP=0.3)]))
    monkeypatch.setattr(benchmark, 'measured_balance', lambda run: {})
    stored = make_run('fgd', 0, 0.25)
    write_records(tmp_path, [stored])
    assert benchmark.complete(benchmark.Run('neon', 'fgd', 0, 'x.py', 'w', config_hash='abc'), tmp_path) == stored
    assert trained == []
    fresh = benchmark.complete(benchmark.Run('neon', 'fgd', 0, 'x.py', 'w', config_hash='def'), tmp_path)
    assert trained == [fresh]
    record = json.loads(benchmark.record_file(tmp_path, 'neon', 'fgd', 0).read_text())
    assert record['config_hash'] == 'def' and record['metrics']['bbox_mAP'] == 0.4
    assert record['git_commit'] == benchmark.git_commit() and record['losses'] == [dict(step=1, loss=1.0)]
    assert record['val_curve'] == [dict(step=10, bbox_mAP=0.3)]
    # the same config with another thread count is another run: results differ with the threads
    benchmark.complete(benchmark.Run('neon', 'fgd', 0, 'x.py', 'w', config_hash='def', threads=1), tmp_path)
    assert len(trained) == 2


def test_losses_and_val_curve_are_read_from_every_logged_session(tmp_path):
    run = make_run('fgd', 0, 0.25, work_dir=str(tmp_path))
    for session, steps in (('20260101_000000', range(0, 3)), ('20260102_000000', range(3, 5))):
        scalars = tmp_path / session / 'vis_data' / 'scalars.json'
        scalars.parent.mkdir(parents=True)
        lines = [dict(loss=1.0, loss_cls=0.5, lr=0.01, w_strong=0.6, teacher_reward=0.5, step=step) for step in steps]
        lines.append({'coco/bbox_mAP': 0.1 * steps[-1], 'coco/bbox_mAP_50': 0.5, 'step': steps[-1]})
        scalars.write_text('\n'.join(map(json.dumps, lines)))
    losses, val_curve = benchmark.logged_points(run)
    assert losses == [dict(loss=1.0, loss_cls=0.5, w_strong=0.6, teacher_reward=0.5, step=step) for step in range(5)]
    assert val_curve == [dict(step=2, bbox_mAP=0.2), dict(step=4, bbox_mAP=0.4)]


def test_config_hash_covers_the_config_and_what_it_reads():
    student = NEON.student_config
    assert benchmark.config_hash(student) == benchmark.config_hash(student)
    assert benchmark.config_hash(student) != benchmark.config_hash(NEON.teacher.config)
    assert benchmark.config_hash(student) != benchmark.config_hash(student, ['teacher-hash'])
    assert benchmark.config_hash(student) != benchmark.config_hash(student, options=['randomness.seed=3'])


def test_a_ratio_variant_sets_the_balance_of_the_distillation_hook_and_nothing_else():
    config = NEON.method_configs['fgd']
    options = benchmark.variant_options(config, 'fgd@r0.7')
    assert len(options) == 1 and options[0].endswith('.balance.target_ratio=0.7')
    assert benchmark.variant_options(config, 'fgd') == []
    assert benchmark.method_config(NEON, 'fgd@r0.7') == config
    # the pair's own ratio does not enter a variant's hash: the variant names its ratio
    base = benchmark.Config.fromfile(str(benchmark.REPO / config))
    hook_index = int(options[0].split('.')[1])
    assert base.custom_hooks[hook_index].type == 'mmkd.DistillationHook'
    other = f'custom_hooks.{hook_index}.balance.target_ratio=99'
    assert benchmark.config_hash(config, options=[other, options[0]]) == benchmark.config_hash(config, options=options)


def config_of_variant(method: str) -> benchmark.Config:
    """The NEON config the benchmark trains for ``method``, its variant's options merged."""
    config = benchmark.method_config(NEON, method)
    cfg = benchmark.Config.fromfile(str(benchmark.REPO / config))
    cfg.merge_from_dict(benchmark.parse_options(benchmark.variant_options(config, method)))
    return cfg


def test_a_learning_rate_variant_scales_the_peak_and_the_cosine_floor_and_nothing_else():
    config = NEON.method_configs['weight_selection']
    assert benchmark.method_config(NEON, 'weight_selection@lr0.25') == config
    assert benchmark.method_config(NEON, 'baseline@lr0.25') == NEON.student_config
    base = benchmark.Config.fromfile(str(benchmark.REPO / config))
    varied = config_of_variant('weight_selection@lr0.25')
    assert base.optim_wrapper.optimizer.lr == 0.02 and varied.optim_wrapper.optimizer.lr == 0.005
    # the recipe's cosine ends at 0.05 of the peak: 0.001 -> 0.00025; warm-up and constant phases are factors
    assert [scheduler.get('eta_min') for scheduler in varied.param_scheduler] == [None, 0.00025, None]
    varied.optim_wrapper.optimizer.lr, varied.param_scheduler[1].eta_min = 0.02, 0.001
    assert varied.to_dict() == base.to_dict()


def test_the_shipped_quarter_rate_config_is_the_variant_chosen_on_held_out_tiles():
    chosen = config_of_variant('weight_selection@lr0.25')
    shipped = config_of_variant(benchmark.QUARTER_LR_METHOD).to_dict()
    assert shipped.pop('lr_factor') == 0.25
    assert shipped == chosen.to_dict()


def test_the_long_schedule_doubles_the_students_epochs_after_the_warm_up_and_nothing_else():
    long_schedule, long_student, short = other_student_and_the_default('neon_long')
    long = long_student.to_dict()
    assert (long.pop('max_epochs'), long.pop('num_last_epochs')) == (80, 10)
    assert (short.pop('max_epochs'), short.pop('num_last_epochs')) == (40, 5)
    assert long['train_cfg']['max_epochs'] == 80 and long['custom_hooks'][0]['num_last_epochs'] == 10
    warm_up, cosine, last = long['param_scheduler']
    assert (warm_up['begin'], warm_up['end']) == (0, 2)
    assert (cosine['begin'], cosine['T_max'], cosine['end'], last['begin'], last['end']) == (2, 68, 70, 70, 80)
    long['train_cfg']['max_epochs'], long['custom_hooks'][0]['num_last_epochs'] = 40, 5
    cosine['T_max'], cosine['end'], last['begin'], last['end'] = 33, 35, 35, 40
    assert long == short
    assert_weight_selection_follows_the_default_pair(long_schedule, long_student)


def test_the_tiny_student_is_the_default_student_at_three_quarters_of_the_teachers_width_and_nothing_else():
    tiny_student, tiny_config, default = other_student_and_the_default('neon_tiny')
    tiny = tiny_config.to_dict()
    teacher = benchmark.Config.fromfile(str(benchmark.REPO / NEON.teacher.config)).model
    assert tiny['model']['backbone']['widen_factor'] == 0.375 == 3 / 4 * teacher.backbone.widen_factor
    assert (tiny['model']['neck']['in_channels'], tiny['model']['neck']['out_channels']) == ([96, 192, 384], 96)
    assert [96, 192, 384] == [3 * channels // 4 for channels in teacher.neck.in_channels]
    assert tiny['model']['bbox_head']['in_channels'] == tiny['model']['bbox_head']['feat_channels'] == 96
    for part in ('backbone', 'neck', 'bbox_head'):
        for key in ('widen_factor', 'in_channels', 'out_channels', 'feat_channels'):
            if key in tiny['model'][part]:
                tiny['model'][part][key] = default['model'][part][key]
    assert tiny == default
    assert_weight_selection_follows_the_default_pair(tiny_student, tiny_config)


def other_student_and_the_default(name: str) -> Tuple[benchmark.Dataset, benchmark.Config, dict]:
    """A NEON dataset that reuses the default teacher and val tiles, its student's config, and the default
    student's config as a dict."""
    dataset = benchmark.DATASETS[name]
    assert (dataset.teacher, dataset.teacher_of, dataset.options) == (NEON.teacher, 'neon', ())
    student = benchmark.Config.fromfile(str(benchmark.REPO / dataset.student_config))
    return dataset, student, config_of_variant('baseline').to_dict()


def assert_weight_selection_follows_the_default_pair(dataset: benchmark.Dataset, student: benchmark.Config) -> None:
    """Weight selection on another NEON student: that student's hooks, then the same selection hook and teacher
    weights as the 40-epoch half-width config."""
    selection = config_of_variant('weight_selection')
    other = benchmark.Config.fromfile(str(benchmark.REPO / dataset.method_configs['weight_selection']))
    assert other.custom_hooks[:-1] == student.custom_hooks
    assert other.custom_hooks[-1] == selection.custom_hooks[-1]
    published = NEON.teacher.published_dir + '/teacher.pth'
    assert other.teacher_config == selection.teacher_config == NEON.teacher.config
    assert other.custom_hooks[-1].checkpoint == selection.teacher_checkpoint == published


@pytest.mark.parametrize('name, of', [('neon_holdout', 'neon'), ('neon_gfl_holdout', 'neon_gfl')])
def test_the_holdout_datasets_train_on_train_fit_evaluate_on_train_holdout_and_reuse_the_teacher(name, of):
    holdout = benchmark.DATASETS[name]
    cfg = benchmark.Config.fromfile(str(benchmark.REPO / holdout.student_config))
    cfg.merge_from_dict(benchmark.parse_options(holdout.options))
    assert cfg.train_dataloader.dataset.dataset.ann_file == 'annotations/train_fit.json'
    for split in ('val', 'test'):
        assert cfg[f'{split}_dataloader'].dataset.ann_file == 'annotations/train_holdout.json'
        assert cfg[f'{split}_evaluator'].ann_file.endswith('annotations/train_holdout.json')
    owner = benchmark.DATASETS[of]
    assert (holdout.teacher, holdout.student_config, holdout.teacher_of) == (owner.teacher, owner.student_config, of)
    assert all('val.json' not in option for option in holdout.options)


def test_the_architecture_datasets_distil_other_students_from_the_neon_teacher():
    repo = Path(benchmark.REPO)
    for name, backbone in (('neon_shallow', 'CSPDarknet'), ('neon_mbv2', 'MobileNetV2')):
        dataset = benchmark.DATASETS[name]
        assert dataset.teacher == NEON.teacher and dataset.teacher_of == 'neon' and not dataset.options
        assert set(benchmark.SETS['architectures'][name]) <= set(dataset.method_configs)
        student = benchmark.Config.fromfile(str(repo / dataset.student_config)).model
        assert student.backbone.type == backbone and student != benchmark.Config.fromfile(
            str(repo / NEON.student_config)).model
        for method in ('baseline', *dataset.method_configs):
            config = benchmark.method_config(dataset, method)
            assert (repo / config).is_file(), config
            # each method's config distils the dataset's student, not the neon one
            assert benchmark.Config.fromfile(str(repo / config)).model == student, config
    assert set(benchmark.DATASETS['neon_mbv2'].method_configs) == {'crosskd', 'fgd', 'fgd_backbone'}
    # across families, FGD distils the neck (the same PAFPN in both students) or the backbone stages (not the same)
    for method, module in (('fgd', 'neck'), ('fgd_backbone', 'backbone')):
        config = benchmark.Config.fromfile(str(repo / benchmark.method_config(benchmark.DATASETS['neon_mbv2'], method)))
        (entry,) = distillation_hook_cfg(config)['distill']
        assert (entry['student'], entry['teacher'], entry['loss']['type']) == (module, module, 'mmkd.FGDLoss')


def test_an_extra_teacher_that_teaches_another_dataset_is_that_datasets_teacher_run():
    gfl_teacher = benchmark.DATASETS['neon_gfl'].teacher
    assert gfl_teacher in NEON.extra_teachers['multi_teacher']
    run = benchmark.model_run(gfl_teacher, NEON)  # one record and one training, wherever it teaches
    assert (run.dataset, run.method) == ('neon_gfl', 'teacher')
    early = benchmark.model_run(benchmark.NEON_EARLY_TEACHER, NEON)
    assert (early.dataset, early.method) == ('neon', 'yolox_teacher_early_neon')


def test_unknown_method_is_a_one_line_error(capsys):
    with pytest.raises(SystemExit) as exit_info:
        benchmark.plan(benchmark.parse_args(['--methods', 'fitnet']))
    assert exit_info.value.code == 2
    assert '--methods: fitnet has no config for dataset neon' in capsys.readouterr().err


def test_every_configured_method_has_a_config_file():
    repo = Path(benchmark.REPO)
    for dataset in benchmark.DATASETS.values():
        for config in (dataset.teacher.config, dataset.student_config, *dataset.method_configs.values()):
            assert (repo / config).is_file(), config


def test_the_record_keeps_the_measured_balance_of_the_final_checkpoint(tmp_path):
    import torch
    run = benchmark.Run('neon', 'fgd', 0, NEON.method_configs['fgd'], str(tmp_path))
    state = dict(measured=10, detection_sum=120.0, term_sums=dict(neck_fgd=600.0, cls_kd=30.0),
                 scales=dict(neck_fgd=0.06, cls_kd=1.2))
    torch.save({'state_dict': {}, 'mmkd': {'balance': state}}, run.final_checkpoint)
    assert benchmark.measured_balance(run) == dict(cls_kd=dict(measured_ratio=0.25, scale=1.2),
                                                   neck_fgd=dict(measured_ratio=5.0, scale=0.06))
    torch.save({'state_dict': {}, 'mmkd': {}}, run.final_checkpoint)
    assert benchmark.measured_balance(run) == {}


def test_a_fresh_clone_distils_from_the_teacher_weights_kept_beside_its_record(tmp_path, monkeypatch):
    import torch
    monkeypatch.setattr(benchmark, 'train', lambda run: pytest.fail('the kept teacher was trained again'))
    teacher = benchmark.Run('neon', 'teacher', 0, NEON.teacher.config, str(tmp_path / 'run'))
    kept = benchmark.teacher_weights(tmp_path / 'results', teacher)
    assert kept == tmp_path / 'results' / 'neon' / 'teacher' / 'seed0.pth'
    kept.parent.mkdir(parents=True)
    torch.save({'state_dict': {'w': torch.ones(2)}, 'meta': {}}, kept)
    model = benchmark.TrainedModel(NEON.teacher.config, str(tmp_path / 'published'))
    benchmark.publish_teachers([(teacher, model)], tmp_path / 'results')
    assert model.published.read_bytes() == kept.read_bytes()


def test_a_teacher_trained_here_is_kept_beside_its_record(tmp_path, monkeypatch):
    import torch
    teacher = benchmark.Run('neon', 'teacher', 0, NEON.teacher.config, str(tmp_path / 'run'))
    monkeypatch.setattr(benchmark, 'train', lambda run: torch.save(
        {'state_dict': {'w': torch.zeros(3)}, 'meta': {}, 'optimizer': {}}, run.final_checkpoint))
    teacher.path.mkdir()
    model = benchmark.TrainedModel(NEON.teacher.config, str(tmp_path / 'published'))
    benchmark.publish_teachers([(teacher, model)], tmp_path / 'results')
    kept = torch.load(benchmark.teacher_weights(tmp_path / 'results', teacher))
    assert set(kept) == {'state_dict', 'meta'} and torch.equal(kept['state_dict']['w'], torch.zeros(3))
    assert model.published.read_bytes() == benchmark.teacher_weights(tmp_path / 'results', teacher).read_bytes()


def test_retrain_trains_a_recorded_run_again_and_compares_without_touching_the_record(tmp_path, monkeypatch, capsys):
    trained = []
    monkeypatch.setattr(benchmark, 'train', trained.append)
    monkeypatch.setattr(benchmark, 'evaluate', lambda run: {key: 0.25 for key in benchmark.METRICS})
    monkeypatch.setattr(benchmark, 'logged_points', lambda run: ([], []))
    monkeypatch.setattr(benchmark, 'measured_balance', lambda run: {})
    write_records(tmp_path, [make_run('fgd', 0, 0.25), make_run('pkd', 0, 0.30)])
    before = {path: path.read_bytes() for path in tmp_path.rglob('*.json')}
    same = benchmark.complete(benchmark.Run('neon', 'fgd', 0, 'x.py', 'w', config_hash='abc'), tmp_path, True)
    other = benchmark.complete(benchmark.Run('neon', 'pkd', 0, 'x.py', 'w', config_hash='abc'), tmp_path, True)
    assert trained == [same, other] and same.metrics['bbox_mAP'] == other.metrics['bbox_mAP'] == 0.25
    assert {path: path.read_bytes() for path in tmp_path.rglob('*.json')} == before
    out = capsys.readouterr().out
    assert 'neon/fgd/seed0: bbox_mAP 0.2500 retrained, reproduces the record' in out
    assert 'neon/pkd/seed0: bbox_mAP 0.2500 retrained, differs from (0.3000) the record' in out


@pytest.mark.parametrize('pair,start,schedule,records,out', [
    ('neon', 'distilled', 'short', 'neon_int8', 'int8_neon'),
    ('neon', 'baseline', 'short', 'neon_int8_from_baseline', 'int8_neon/from_baseline'),
    ('neon', 'baseline', 'full', 'neon_int8_from_baseline_full_schedule', 'int8_neon/from_baseline_full_schedule'),
    ('neon_mbv2', 'baseline', 'short', 'neon_mbv2_int8_from_baseline', 'int8_neon/mbv2/from_baseline')])
def test_int8_table_pairs_each_row_with_the_rows_above_and_shows_the_artifact_gap(tmp_path, pair, start, schedule,
                                                                                  records, out):
    from benchmarks import int8_neon
    pair = int8_neon.PAIRS[pair]
    family = int8_neon.Family(pair, int8_neon.STARTS[start], pair.schedules[schedule], tmp_path)
    fp32 = {'baseline': (0.04, 0.06), pair.distilled: (0.08, 0.07)}
    int8 = {'ptq': (0.07, 0.07), 'qat': (0.09, 0.08), 'qat_kd': (0.10, 0.10)}
    for row, maps in fp32.items():
        for seed, mAP in enumerate(maps):
            path = benchmark.record_file(tmp_path, pair.dataset.name, row, seed)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(dict(metrics=dict(bbox_mAP=mAP))))
    assert (family.records, family.out) == (records, benchmark.REPO / 'work_dirs' / out)
    assert family.method == (pair.distilled if start == 'distilled' else 'baseline')
    for row, maps in int8.items():
        for seed, mAP in enumerate(maps):
            record = int8_neon.Int8Record(row, seed, 'c.py', 'h', 'd', fake_quant_mAP=mAP - 0.001 * (seed + 1),
                                          mAP=mAP, metrics=dict(bbox_mAP=mAP))
            path = benchmark.record_file(tmp_path, records, row, seed)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(int8_neon.asdict(record)))
    text = int8_neon.table([0, 1], family)
    lines = {line.split(' | ')[0].strip('| '): line.split(' | ') for line in text.splitlines()
             if line.startswith('| ') and 'model' not in line}
    assert f'INT8 rows from the {family.label}' in text
    # minus the FP32 student: +0.06 and +0.04, sample sd 0.0141, over sqrt(2): 0.01
    assert lines['QAT INT8 with KD'][3] == f'+0.0500 ± {T_975[1] * 0.01:.4f}'
    # QAT + KD minus the distilled student: +0.02 and +0.03, mean +0.025, t(0.975, 1) * 0.00707 / sqrt(2)
    assert lines['QAT INT8 with KD'][4] == f'+0.0250 ± {T_975[1] * 0.005:.4f}'
    assert lines['QAT INT8 with KD'][6] == '+0.0150 ± 0.0635'  # minus QAT without KD: +0.01 and +0.02
    assert lines['PTQ INT8'][5:7] == ['', '']  # nothing above it to compare but FP32
    assert lines['QAT INT8 with KD'][7] == '0.002 |'  # the largest |artifact - fake-quant| over the seeds
    assert lines['FP32 student (no KD)'][1] == '0.040, 0.060'
    assert lines[f'FP32 distilled ({pair.distilled_label})'][1] == '0.080, 0.070'


def test_each_method_is_paired_against_the_one_with_the_largest_gain(runs):
    text = benchmark.versus_best(runs, benchmark.summarise(runs))
    assert 'largest mean gain, fgd' in text  # fgd +0.055 on average, pkd +0.01
    # pkd minus fgd per seed: -0.06 and -0.03; t(0.975, 1) * stdev / sqrt(2) = 12.7062 * 0.015
    assert f'| pkd | 0,1 | -0.0450 ± {T_975[1] * 0.015:.4f} | no |' in text
    assert '| fgd |' not in text
    assert benchmark.versus_best(runs[:5], benchmark.summarise(runs[:5])) == ''  # one distilled method


def test_teacher_selection_reads_pick_shares_and_rewards_from_the_records(tmp_path):
    from benchmarks import teacher_selection
    picks = [dict(step=5 * (i + 1), w_a=float(i < 3), w_b=float(i >= 3), teacher_reward=0.25 * i, loss=1.0)
             for i in range(4)]  # a taught the first 3 logged iterations, b the last
    for method, mAP in (('bandit', 0.05), ('fixed', 0.04)):
        (tmp_path / 'neon' / method).mkdir(parents=True)
        record = dict(metrics=dict(bbox_mAP=mAP), losses=picks)
        (tmp_path / 'neon' / method / 'seed0.json').write_text(json.dumps(record))
    rows = teacher_selection.table(tmp_path, 'neon', 'bandit', 'fixed').splitlines()
    assert rows[0] == '| seed | share a | share b | mean reward | mAP | mAP fixed |'
    assert rows[2] == '| 0 | 0.75 | 0.25 | 0.375 | 0.050 | 0.040 |'
    teacher_selection.plot(tmp_path, 'neon', 'bandit', tmp_path / 'plot.png')
    assert (tmp_path / 'plot.png').stat().st_size > 0


def test_int8_stops_when_the_quantised_checkpoint_is_not_the_one_its_record_measured(tmp_path, capsys):
    from benchmarks import int8_neon
    run = benchmark.Run('neon', 'baseline', 0, 'configs/yolox/yolox_student_neon.py', 'work_dirs/x/seed0')
    record = benchmark.record_file(tmp_path, 'neon', 'baseline', 0)
    record.parent.mkdir(parents=True)
    record.write_text(json.dumps(benchmark.asdict(benchmark.Run(
        'neon', 'baseline', 0, run.config, run.work_dir, metrics=dict(bbox_mAP=0.062)))))
    int8_neon.check_start(run, 0.062, tmp_path)  # the record's checkpoint: nothing to say
    with pytest.raises(SystemExit):
        int8_neon.check_start(run, 0.074, tmp_path)  # e.g. a run resumed mid-way ended elsewhere
    error = capsys.readouterr().err
    assert 'gives mAP 0.074, its record' in error and '0.062 (a resumed run?); delete work_dirs/x/seed0' in error
