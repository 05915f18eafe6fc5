"""A resumed run ends where the uninterrupted run ends (mmkd.RandomStateHook, registered by tools/train.py)."""
import random
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import torch
from mmengine.runner import Runner
from torch import nn
from utils import load, load_config

from mmkd.hooks import RandomStateHook
from mmkd.hooks.random_state_hook import CHECKPOINT_KEY, generator_states, set_generator_states
from mmkd.utils.cli import build_runner


def _train(work_dir: Path, synth_root: str, epochs: int, with_hook: bool = True, resume: bool = False) -> dict:
    """The tiny YOLOX recipe (Mosaic, RandomAffine, BatchSyncRandomResize every iteration, EMA) for ``epochs``,
    resumed from ``epoch_1.pth`` when ``resume``; the final checkpoint's weights."""
    options = dict(resume=True, load_from=str(work_dir / 'epoch_1.pth')) if resume else {}
    cfg = load_config('yolox_tiny_synth.py', work_dir, synth_root, randomness=dict(seed=3),
                      train_cfg=dict(max_epochs=epochs, val_interval=5), **options)
    runner = build_runner(cfg) if with_hook else Runner.from_cfg(cfg)
    runner.train()
    return load(work_dir / f'epoch_{epochs}.pth')['state_dict']


def _differing(first: dict, second: dict) -> list:
    return [key for key in first if not torch.equal(first[key], second[key])]


def test_a_run_resumed_after_its_first_epoch_ends_with_the_uninterrupted_runs_weights(tmp_path, synth_root):
    whole = _train(tmp_path / 'whole', synth_root, 2)
    _train(tmp_path / 'split', synth_root, 1)
    checkpoint = load(tmp_path / 'split' / 'epoch_1.pth')
    assert len(checkpoint[CHECKPOINT_KEY]) == 1  # one rank
    assert _differing(whole, _train(tmp_path / 'split', synth_root, 2, resume=True)) == []
    # MMEngine alone (the same first epoch, resumed without the hook) draws other augmentations
    _train(tmp_path / 'plain', synth_root, 1, with_hook=False)
    assert _differing(whole, _train(tmp_path / 'plain', synth_root, 2, with_hook=False, resume=True))


def _runner(iteration: int, warnings: list) -> SimpleNamespace:
    return SimpleNamespace(iter=iteration, model=nn.Linear(1, 1), logger=SimpleNamespace(warning=warnings.append))


def test_states_are_restored_on_resume_only():
    saved = generator_states()
    expected = (random.random(), float(np.random.rand()), float(torch.rand(1)))
    moved = generator_states()  # after one draw of each
    hook, warnings = RandomStateHook(), []

    set_generator_states(moved)
    hook.after_load_checkpoint(_runner(0, warnings), {CHECKPOINT_KEY: [dict(generators=saved)]})
    hook.before_train(_runner(0, warnings))  # load_from: a new run keeps its own seed's draws
    assert random.random() != expected[0]

    hook.after_load_checkpoint(_runner(6, warnings), {CHECKPOINT_KEY: [dict(generators=saved, resize_sizes=[])]})
    hook.before_train(_runner(6, warnings))  # resume: the draws continue from the checkpoint
    assert (random.random(), float(np.random.rand()), float(torch.rand(1))) == expected
    assert warnings == []

    set_generator_states(saved)
    hook.after_load_checkpoint(_runner(6, warnings), {CHECKPOINT_KEY: [dict(generators=moved)] * 2})
    hook.before_train(_runner(6, warnings))  # two ranks' states, one rank now: left alone, with a warning
    assert random.random() == expected[0]
    assert warnings == ['mmkd.RandomStateHook: the resumed checkpoint holds the random state of 2 ranks for 1 '
                        'ranks; the resumed iterations draw other augmentations than an uninterrupted run would']
