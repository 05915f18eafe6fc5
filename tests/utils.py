"""Helpers shared by the end-to-end tests: configs pointed at test data, runs."""
from pathlib import Path
from typing import Any, Dict

import torch
from mmengine.config import Config
from mmengine.runner import Runner

REPO = Path(__file__).resolve().parents[1]
CONFIGS = REPO / 'tests' / 'configs'


def point_to_data(cfg: Config, data_root: str) -> Config:
    """Make every dataset and evaluator of ``cfg`` read from ``data_root``."""
    data_root = str(data_root).rstrip('/') + '/'
    for name in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        dataset = cfg[name].dataset
        while 'dataset' in dataset:  # dataset wrappers (MultiImageMixDataset)
            dataset = dataset.dataset
        dataset.data_root = data_root
    for name in ('val_evaluator', 'test_evaluator'):
        cfg[name].ann_file = data_root + 'annotations/val.json'
    return cfg


def load_config(name: str, work_dir: Path, data_root: str, **options: Any) -> Config:
    """A test config with its data, work_dir and ``--cfg-options``-style overrides."""
    cfg = Config.fromfile(str(CONFIGS / name))
    point_to_data(cfg, data_root)
    cfg.work_dir = str(work_dir)
    cfg.merge_from_dict(options)
    return cfg


# Sections of _base_/tiny_synth_data.py that replace an mmdet COCO config's.
RUN_SECTIONS = ('train_dataloader', 'val_dataloader', 'test_dataloader', 'val_evaluator', 'test_evaluator',
                'train_cfg', 'val_cfg', 'test_cfg', 'optim_wrapper', 'param_scheduler', 'default_hooks',
                'randomness')


def load_mmdet_config(name: str, work_dir: Path, data_root: str, **options: Any) -> Config:
    """Like :func:`load_config` for a test config that inherits one of mmdet's
    COCO configs (``_base_ = 'mmdet::...'``): its data, schedule and runtime
    sections are replaced by those of ``_base_/tiny_synth_data.py`` (mmengine
    refuses both as bases of one file, since their keys overlap)."""
    cfg = Config.fromfile(str(CONFIGS / name))
    tiny = Config.fromfile(str(CONFIGS / '_base_' / 'tiny_synth_data.py'))
    for section in RUN_SECTIONS:
        cfg[section] = tiny[section]
    point_to_data(cfg, data_root)
    cfg.work_dir = str(work_dir)
    cfg.merge_from_dict(options)
    return cfg


def train(cfg: Config) -> Runner:
    runner = Runner.from_cfg(cfg)
    runner.train()
    return runner


def distill_hook_cfg(cfg: Config) -> Dict[str, Any]:
    return next(hook for hook in cfg.custom_hooks if hook['type'] == 'mmkd.DistillationHook')


def find_distill_hook(runner: Runner):
    from mmkd.hooks import DistillationHook
    return next(hook for hook in runner.hooks if isinstance(hook, DistillationHook))


def load(path: Path) -> Dict[str, Any]:
    return torch.load(str(path), map_location='cpu')
