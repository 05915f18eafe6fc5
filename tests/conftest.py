"""Session fixtures: a small synthetic COCO dataset and a trained tiny teacher."""
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from mmdet.utils import register_all_modules  # noqa: E402

import mmkd  # noqa: E402,F401

register_all_modules(init_default_scope=False)


@pytest.fixture(scope='session')
def synth_root(tmp_path_factory) -> str:
    """24 train / 4 val images of 96 px from the seeded synthetic generator."""
    from mmkd.demo_data.synthetic_shapes import ShapesParams, generate_synthetic_shapes
    root = tmp_path_factory.mktemp('synthetic_shapes')
    generate_synthetic_shapes(root, num_train=24, num_val=4, seed=0,
                              params=ShapesParams(img_size=96, min_shapes=1, max_shapes=4, min_scale=0.15))
    return str(root)


@pytest.fixture(scope='session')
def teacher_checkpoint(tmp_path_factory, synth_root) -> Path:
    """The test teacher trained for one epoch (its quality does not matter here)."""
    from utils import load_config, train
    work_dir = tmp_path_factory.mktemp('teacher')
    cfg = load_config('yolox_tiny_teacher_synth.py', work_dir, synth_root,
                      train_cfg=dict(max_epochs=1, val_interval=5))
    train(cfg)
    return work_dir / 'epoch_1.pth'
