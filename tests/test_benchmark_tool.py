"""tools/benchmark.py: the statistics, table, plots and run bookkeeping (training is covered elsewhere)."""
import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tools import benchmark  # noqa: E402

NEON = benchmark.DATASETS['neon']


def make_run(method: str, seed: int, mAP: float, work_dir: str = 'unused') -> benchmark.Run:
    metrics = {key: mAP for key in benchmark.METRICS}
    return benchmark.Run('neon', method, seed, 'unused.py', work_dir, train_seconds=10.0 * (seed + 1), metrics=metrics)


@pytest.fixture
def runs():
    return [make_run('teacher', 0, 0.30),
            make_run('baseline', 0, 0.20), make_run('baseline', 1, 0.22),
            make_run('fgd', 0, 0.26), make_run('fgd', 1, 0.27),
            make_run('pkd', 0, 0.20), make_run('pkd', 1, 0.24)]


def test_summaries_average_over_seeds_and_measure_spread(runs):
    summaries = {summary.method: summary for summary in benchmark.summarise(runs)}
    assert summaries['baseline'].mAP == pytest.approx(0.21)
    assert summaries['baseline'].spread == pytest.approx(0.02)
    assert summaries['fgd'].seeds == [0, 1]
    assert summaries['fgd'].train_seconds == pytest.approx(15.0)


def test_gain_gap_closed_and_significance(runs):
    summaries = {summary.method: summary for summary in benchmark.summarise(runs)}
    teacher, baseline = summaries['teacher'], summaries['baseline']
    # fgd: mean 0.265, gain 0.055 of a 0.09 gap; larger than both spreads (0.01, 0.02)
    assert benchmark.verdict(summaries['fgd'], baseline, teacher) == ('+0.0550', '61%', 'yes')
    # pkd: mean 0.22, gain 0.01 is smaller than its own spread 0.04
    assert benchmark.verdict(summaries['pkd'], baseline, teacher) == ('+0.0100', '11%', 'no')


def test_teacher_below_baseline_reports_no_gap():
    runs = [make_run('teacher', 0, 0.1), make_run('baseline', 0, 0.2), make_run('fgd', 0, 0.25)]
    summaries = {summary.method: summary for summary in benchmark.summarise(runs)}
    gain, closed, significant = benchmark.verdict(summaries['fgd'], summaries['baseline'], summaries['teacher'])
    assert gain == '+0.0500' and closed.startswith('n/a') and significant == 'one seed: unknown'


def test_markdown_table_has_a_row_per_model(runs):
    table = benchmark.markdown_table(NEON, benchmark.summarise(runs))
    rows = [line for line in table.splitlines() if line.startswith('| ') and not line.startswith('| model')]
    assert [row.split(' | ')[0].strip('| ') for row in rows] == ['teacher', 'baseline', 'fgd', 'pkd']
    assert '| 0.2650 | 0.0100 |' in table


def test_report_writes_json_table_and_plots(tmp_path, runs):
    for run in runs:  # one logged session per run, as MMEngine's LocalVisBackend writes it
        run.work_dir = str(tmp_path / run.method / f'seed{run.seed}')
        scalars = Path(run.work_dir) / '20260101_000000' / 'vis_data' / 'scalars.json'
        scalars.parent.mkdir(parents=True)
        lines = [dict(loss=2.0 - step / 10, loss_cls=1.0 - step / 20, step=step) for step in range(5)]
        if run.method not in ('teacher', 'baseline'):
            lines = [dict(line, loss_neck=0.5 / (1 + line['step'])) for line in lines]
        lines.append({'coco/bbox_mAP': 0.1, 'step': 5})  # a validation record: not a training point
        scalars.write_text('\n'.join(map(json.dumps, lines)))
    text = benchmark.report({'neon': runs}, tmp_path / 'out', 'python tools/benchmark.py --set quick')
    assert text.startswith('Command: `python tools/benchmark.py --set quick`')
    stored = json.loads((tmp_path / 'out' / 'results.json').read_text())
    assert [run['method'] for run in stored['neon']] == [run.method for run in runs]
    for name in ('map_neon.png', 'loss_neon.png'):
        assert (tmp_path / 'out' / name).read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'
    assert len(benchmark.training_scalars(runs[3])) == 5


def test_finished_run_is_read_back_not_retrained(tmp_path):
    run = make_run('fgd', 0, 0.25, work_dir=str(tmp_path))
    run.result_file.write_text(json.dumps(benchmark.asdict(run)))
    assert benchmark.complete(benchmark.Run('neon', 'fgd', 0, 'missing.py', str(tmp_path))) == run


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
