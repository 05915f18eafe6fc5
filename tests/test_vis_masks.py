"""tools/vis_masks.py: the PNGs it writes for the tiny YOLOX pair, and its one-line errors."""
import json
import sys
from pathlib import Path

import numpy as np
import pytest
from matplotlib.image import imread

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tools import vis_masks  # noqa: E402

CONFIGS = Path(__file__).resolve().parent / 'configs'
TEACHER_CONFIG = str(CONFIGS / 'yolox_tiny_teacher_synth.py')
SIZE = 96  # the synthetic images and the tiny configs' input
LEVELS = range(3)  # strides 8, 16, 32


@pytest.fixture(scope='module')
def distill_config(tmp_path_factory, synth_root) -> Path:
    """The tiny distillation config reading the session's synthetic data."""
    config = tmp_path_factory.mktemp('vis_config') / 'distill.py'
    config.write_text(f"""
_base_ = '{CONFIGS / 'yolox_tiny_distill_synth.py'}'
data_root = '{synth_root}/'
val_dataloader = dict(dataset=dict(data_root=data_root))
val_evaluator = dict(ann_file=data_root + 'annotations/val.json')
""")
    return config


@pytest.fixture(scope='module')
def untrained_teacher(tmp_path_factory) -> Path:
    """A checkpoint of the initialised test teacher: the masks drawn here need no training
    (the session's trained ``teacher_checkpoint`` alone takes a minute on 2 cores)."""
    import torch

    from mmkd.engine.teacher import build_detector, load_detector_config
    torch.manual_seed(0)
    teacher = build_detector(load_detector_config(TEACHER_CONFIG, 'teacher'))
    teacher.init_weights()
    path = tmp_path_factory.mktemp('vis_teacher') / 'teacher.pth'
    torch.save(dict(state_dict=teacher.state_dict()), path)
    return path


@pytest.fixture(scope='module')
def written(tmp_path_factory, distill_config, untrained_teacher):
    out_dir = tmp_path_factory.mktemp('vis_out')
    paths = vis_masks.main([str(distill_config), '--teacher-config', TEACHER_CONFIG,
                            '--teacher-checkpoint', str(untrained_teacher), '--index', '0',
                            '--out-dir', str(out_dir)])
    return out_dir, paths


def image_boxes(synth_root: str, stem: str) -> np.ndarray:
    """``(M, 4)`` xyxy GT boxes of the val image ``stem`` (already at the input size)."""
    coco = json.loads((Path(synth_root) / 'annotations/val.json').read_text())
    image = next(i for i in coco['images'] if Path(i['file_name']).stem == stem)
    assert (image['width'], image['height']) == (SIZE, SIZE)
    boxes = np.array([a['bbox'] for a in coco['annotations'] if a['image_id'] == image['id']], float)
    return np.concatenate([boxes[:, :2], boxes[:, :2] + boxes[:, 2:]], axis=1)


def test_writes_every_png(written):
    out_dir, paths = written
    stem = paths[-1].name[:-len('_masks.png')]
    expected = {f'{stem}_{mask}_level{k}.png' for mask in vis_masks.MASKS for k in LEVELS}
    expected |= {f'{stem}_features_level{k}.png' for k in LEVELS} | {f'{stem}_masks.png'}
    assert {p.name for p in out_dir.iterdir()} == expected == {p.name for p in paths}
    for path in paths:
        picture = imread(path)
        assert picture.ndim == 3 and picture.std() > 0, path.name
        if '_level' in path.name and '_features_' not in path.name:
            assert picture.shape[:2] == (SIZE, SIZE), path.name  # pixel for pixel the input
    summary = imread(out_dir / f'{stem}_masks.png')
    features = imread(out_dir / f'{stem}_features_level0.png')
    # 8 rows (6 masks, teacher and student activity) x 3 levels; teacher | student
    assert summary.shape[0] > 2 * summary.shape[1] and features.shape[1] > 1.5 * features.shape[0]


def test_foreground_overlay_is_bright_in_boxes_and_dark_outside(written, synth_root):
    out_dir, paths = written
    stem = paths[-1].name[:-len('_masks.png')]
    boxes = image_boxes(synth_root, stem)
    brightness = imread(out_dir / f'{stem}_foreground_level0.png')[..., :3].mean(-1)
    ys, xs = np.mgrid[:SIZE, :SIZE] + 0.5

    def inside(margin: float) -> np.ndarray:
        x1, y1, x2, y2 = (boxes[:, i, None, None] for i in range(4))
        return ((xs > x1 - margin) & (xs < x2 + margin) & (ys > y1 - margin) & (ys < y2 + margin)).any(0)

    in_boxes = inside(-2)  # clear of the box outlines
    far = ~inside(8 + 2)  # not in a stride-8 cell that touches a box
    assert in_boxes.sum() > 20 and far.sum() > 20
    # mask 1: 0.6 of inferno's bright end (0.53) + grey; mask 0: 0.4 grey (<= 0.4) + 0.6 near-black
    assert brightness[in_boxes].min() > 0.5
    assert brightness[far].max() < 0.45


def test_missing_config_is_one_line(tmp_path, capsys):
    missing = str(tmp_path / 'nope.py')
    with pytest.raises(SystemExit) as exit_info:
        vis_masks.main([missing])
    lines = capsys.readouterr().err.strip().splitlines()
    assert exit_info.value.code == 2 and len(lines) == 1
    assert lines[0].startswith('error: config file not found') and missing in lines[0]


def test_missing_teacher_checkpoint_is_one_line(tmp_path, capsys, distill_config):
    missing = str(tmp_path / 'teacher.pth')
    with pytest.raises(SystemExit) as exit_info:
        vis_masks.main([str(distill_config), '--teacher-config', TEACHER_CONFIG,
                        '--teacher-checkpoint', missing])
    lines = capsys.readouterr().err.strip().splitlines()
    assert exit_info.value.code == 2 and len(lines) == 1
    assert lines[0].startswith('error: teacher checkpoint not found') and missing in lines[0]
