"""Tests of tools/train.py, tools/test.py and the dataset converter CLIs."""
import subprocess
import sys
from pathlib import Path
from typing import List

import pytest

from mmkd.demo_data import ShapesParams, generate_synthetic_shapes

REPO = Path(__file__).resolve().parents[1]
TRAIN = str(REPO / 'tools/train.py')
TEST = str(REPO / 'tools/test.py')
STUDENT = str(REPO / 'configs/yolox/yolox_student_neon.py')


def run(args: List[str], cwd: Path = REPO) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args],
                          cwd=cwd,
                          capture_output=True,
                          text=True,
                          timeout=300)


def assert_one_line_error(result: subprocess.CompletedProcess,
                          *expected: str) -> None:
    """Exit code 2 and a single ``error:`` line holding ``expected``."""
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2, result.stderr
    assert len(lines) == 1 and lines[0].startswith('error: '), result.stderr
    for text in expected:
        assert text in lines[0]


def test_missing_config(tmp_path):
    missing = str(tmp_path / 'nope.py')
    assert_one_line_error(run([TRAIN, missing]), 'config file not found',
                          missing)


def test_missing_dataset_names_path_and_fix(tmp_path):
    # data_root is relative to the working directory, which has no data/
    assert_one_line_error(
        run([TRAIN, STUDENT], cwd=tmp_path),
        'data/neon_trees/annotations/train.json', 'make data')


def test_non_coco_annotation_file(tmp_path):
    bad = tmp_path / 'train.json'
    bad.write_text('{"rows": []}')
    assert_one_line_error(
        run([
            TRAIN, STUDENT, '--cfg-options',
            f'train_dataloader.dataset.dataset.ann_file={bad}'
        ]), 'not a COCO annotation file', str(bad))


def test_missing_checkpoint(tmp_path):
    missing = str(tmp_path / 'epoch_1.pth')
    assert_one_line_error(
        run([TEST, STUDENT, missing]), 'checkpoint not found', missing)


def test_neon_converter_missing_sources(tmp_path):
    result = run([
        str(REPO / 'tools/dataset_converters/neon_trees.py'), '--src',
        str(tmp_path), '--out',
        str(tmp_path / 'out')
    ])
    assert_one_line_error(result, str(tmp_path),
                          'pip install --no-deps deepforest==2.1.0')


@pytest.fixture
def tiny_config(tmp_path) -> Path:
    """GFL student for one epoch on a tiny synthetic set under tmp_path."""
    data_root = tmp_path / 'shapes'
    generate_synthetic_shapes(
        data_root, num_train=4, num_val=2,
        params=ShapesParams(img_size=64, max_shapes=3))
    config = tmp_path / 'gfl_tiny.py'
    config.write_text(f"""
_base_ = '{REPO / 'configs/gfl/gfl_student_synth.py'}'
data_root = '{data_root}/'
train_dataloader = dict(batch_size=2, dataset=dict(data_root=data_root))
val_dataloader = dict(batch_size=2, dataset=dict(data_root=data_root))
test_dataloader = val_dataloader
val_evaluator = dict(ann_file=data_root + 'annotations/val.json')
test_evaluator = val_evaluator
train_cfg = dict(max_epochs=1, val_interval=1)
# keep every prediction of the barely trained model so COCO eval runs
model = dict(test_cfg=dict(score_thr=0.0))
""")
    return config


def test_train_then_test(tiny_config, tmp_path):
    work_dir = tmp_path / 'work'
    train = run([TRAIN, str(tiny_config), '--work-dir', str(work_dir)])
    assert train.returncode == 0, train.stderr[-3000:]
    checkpoint = work_dir / 'epoch_1.pth'
    assert checkpoint.is_file()
    preds = tmp_path / 'preds.pkl'
    test = run([
        TEST,
        str(tiny_config),
        str(checkpoint), '--work-dir',
        str(work_dir), '--out',
        str(preds)
    ])
    assert test.returncode == 0, test.stderr[-3000:]
    assert preds.is_file()
    assert 'coco/bbox_mAP' in test.stdout + test.stderr
