"""benchmarks/scheme_cost.py: the table's ratios and formatting on given numbers, and one real
measurement (mean teacher on the synthetic config, tiny batch) through its command line."""
import json
import math
from pathlib import Path

import pytest
from mmengine.config import Config
from mmengine.logging import MMLogger

from benchmarks import scheme_cost
from benchmarks.scheme_cost import PLAIN, Row, format_table, results_table, rows_for
from mmkd.engine.teacher import build_detector

REPO = Path(__file__).resolve().parents[1]


def test_rows_are_grouped_by_dataset_after_their_plain_student():
    rows = rows_for(['multi_teacher', 'kd', 'sigmoid_kd', 'online_dml:synth'])

    assert [(row.name, row.dataset) for row in rows] == [
        (PLAIN, 'neon'), ('multi_teacher', 'neon'), ('sigmoid_kd', 'neon'),
        (PLAIN, 'synth'), ('kd', 'synth'), ('online_dml', 'synth')]
    assert rows[1].config == 'configs/distill/schemes/multi_teacher_yolox_neon.py'  # a scheme leaf
    assert rows[2].config == 'configs/distill/sigmoid_kd_yolox_neon.py'  # an offline method as reference
    assert rows[4].config == 'configs/distill/kd_yolox_synth.py'  # no NEON config: synth
    assert all((REPO / row.config).is_file() for row in rows)
    # a student of another architecture: its rows are taken against its own plain student
    assert [(row.name, row.config) for row in rows_for(['fgd_backbone', 'crosskd:mbv2_neon'])] == [
        (PLAIN, 'configs/yolox/yolox_student_mbv2_neon.py'),
        ('fgd_backbone', 'configs/distill/fgd_backbone_yolox_mbv2_neon.py'),
        ('crosskd', 'configs/distill/crosskd_yolox_mbv2_neon.py')]
    with pytest.raises(ValueError, match='no config for scheme "nonexistent"'):
        rows_for(['nonexistent'])
    with pytest.raises(ValueError, match='no config'):
        rows_for(['kd:neon'])


def test_ratios_are_taken_against_the_plain_row_of_the_same_dataset():
    neon, kd = Row(PLAIN, 'neon', 'a.py'), Row('kd', 'neon', 'b.py')
    synth, multi = Row(PLAIN, 'synth', 'c.py'), Row('multi', 'synth', 'd.py')
    times = {neon: [1.0, 2.0, 1.0], kd: [1.5, 2.0, 3.0], synth: [2.0, 2.0, 2.0], multi: [4.0, 5.0, 8.0]}
    memory = {neon: 100.0, kd: 150.0, synth: 200.0, multi: 500.0}
    nothing = dict(params=0, buffers=0, parts={})
    held = {neon: nothing, synth: nothing,
            kd: dict(params=8_940_000, buffers=20_000, parts={'model (YOLOX)': 8_940_000}),
            multi: dict(params=13_860_000, buffers=0, parts={'adapters': 40_000, 'weighting (W)': 2})}

    results = {(r['scheme'], r['dataset']): r for r in results_table(times, memory, held)}

    # per-round ratios 1.5, 1.0, 3.0: median 1.5 (not the ratio of medians, 2.0 / 1.0)
    assert results['kd', 'neon']['time_ratio'] == pytest.approx(1.5)
    assert results['kd', 'neon']['time_ratio_range'] == pytest.approx([1.0, 3.0])
    assert results['multi', 'synth']['time_ratio'] == pytest.approx(2.5)  # against the synth student
    assert results['multi', 'synth']['memory_ratio'] == pytest.approx(2.5)
    assert results['kd', 'neon']['memory_ratio'] == pytest.approx(1.5)
    assert results[PLAIN, 'neon']['time_ratio'] == results[PLAIN, 'synth']['memory_ratio'] == 1.0

    lines = format_table(list(results.values()))
    assert lines[0].startswith('| scheme | data | time / step (x student) | peak memory (x student) |')
    assert '| kd | neon | 1.50 (1.00-3.00) | 1.50 | 8.94 (+0.02 M buffers) | model (YOLOX) 8.94 |' in lines
    assert '| multi | synth | 2.50 (2.00-4.00) | 2.50 | 13.86 | adapters 0.04; weighting (W) 2 params |' in lines
    assert '| student | neon | 1.00 (1.00-1.00) | 1.00 | 0.00 | - |' in lines

    without_memory = results_table(times, {}, held)
    assert '| kd | neon | 1.50 (1.00-3.00) | - |' in format_table(without_memory)[3]


def test_mean_teacher_measured_on_a_tiny_batch(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(REPO)  # main() moves to the repository; restored after the test
    out = tmp_path / 'cost.json'
    logger = MMLogger.get_current_instance()
    level = logger.level
    try:
        scheme_cost.main(['--schemes', 'mean_teacher:synth', '--batch', '2', '--size', '64', '--rounds', '1',
                          '--json', str(out)])
    finally:
        logger.setLevel(level)  # main() quiets the log to WARNING

    rows = {row['scheme']: row for row in json.loads(out.read_text())['rows']}
    assert set(rows) == {PLAIN, 'mean_teacher'}
    mean_teacher = rows['mean_teacher']
    for key in ('time_ratio', 'memory_ratio'):
        assert math.isfinite(mean_teacher[key]) and mean_teacher[key] > 0, key
    student = build_detector(Config.fromfile(str(REPO / 'configs/yolox/yolox_student_synth.py')))
    # the averaged copy: every parameter of the student once more (its BN statistics as buffers)
    assert mean_teacher['held_params'] == sum(p.numel() for p in student.parameters())
    assert mean_teacher['held_buffers'] >= sum(b.numel() for b in student.buffers())
    assert rows[PLAIN]['held_params'] == 0
    assert '| mean_teacher | synth |' in capsys.readouterr().out
