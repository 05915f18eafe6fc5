"""Checkpoints written before the teacher-source refactor still resume (issue 16).

``tests/data/old_*.pth`` were written by commit 4a239c4 (before ``mmkd/teachers``)
with ``tests/data/make_old_checkpoints.py``: one epoch of the test pair, offline
(``yolox_tiny_distill_synth.py``) and online (DML, the teacher config as peer).
Each is resumed here with the current hook for one more epoch.

The offline checkpoint's hook config names a teacher file of the run that wrote
it; the resume uses the session ``teacher_checkpoint`` fixture instead (same
teacher config). The frozen teacher's weights are not part of
``checkpoint['mmkd']`` and do not matter for what is tested: that the hook's own
state (adapters, peer) comes back from the old layout and training goes on.
"""
import copy
from pathlib import Path
from typing import Any, Dict

import pytest
import torch
from mmengine.config import Config
from mmengine.hooks import Hook
from mmengine.runner import Runner
from utils import CONFIGS, REPO, distill_hook_cfg, find_distill_hook, load, load_config

DATA = REPO / 'tests' / 'data'
OLD_OFFLINE = DATA / 'old_offline.pth'
OLD_ONLINE = DATA / 'old_online.pth'
NECK_MSE = dict(name='neck_mse', student='neck', teacher='neck', loss=dict(type='mmkd.FeatureMSELoss'))
CLS_KD = dict(name='cls_kd', student='bbox_head[0]', teacher='bbox_head[0]',
              loss=dict(type='mmkd.KDLoss', temperature=2.0))


class _StateAfterLoad(Hook):
    """The distillation hook's modules right after the checkpoint is loaded
    (this hook runs after the distillation hook's ``after_load_checkpoint``)."""
    priority = 'LOWEST'
    state: Dict[str, Any] = {}

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        source = find_distill_hook(runner).source
        self.state = dict(distiller=copy.deepcopy(source.distiller.state_dict()))
        if hasattr(source, 'peer_distiller'):
            self.state.update(peer=copy.deepcopy(source.model.state_dict()),
                              peer_distiller=copy.deepcopy(source.peer_distiller.state_dict()))

    def before_train(self, runner) -> None:
        """The old optimizer state went to the same parameters (torch maps it by position)."""
        optimizer = runner.optim_wrapper.optimizer
        params = [p for group in optimizer.param_groups for p in group['params']]
        self.stepped = sum(p in optimizer.state for p in params)
        for param in params:
            for value in optimizer.state.get(param, {}).values():
                if isinstance(value, torch.Tensor) and value.dim():
                    assert value.shape == param.shape


def assert_equal_tensors(saved: Dict[str, torch.Tensor], restored: Dict[str, torch.Tensor], where: str) -> None:
    assert saved and saved.keys() == restored.keys(), where
    for key, tensor in saved.items():
        assert torch.equal(tensor.cpu(), restored[key].cpu()), f'{where}.{key}'


def resume(cfg: Config, checkpoint: Path) -> tuple:
    cfg.merge_from_dict(dict(resume=True, load_from=str(checkpoint), train_cfg=dict(max_epochs=2, val_interval=5)))
    runner = Runner.from_cfg(cfg)
    loaded = _StateAfterLoad()
    runner.register_hook(loaded)
    runner.train()
    assert loaded.stepped == len(load(checkpoint)['optimizer']['state'])
    return runner, loaded.state


def assert_resumed_and_trained(runner: Runner, old: dict, loss_keys: tuple) -> None:
    assert runner.epoch == 2 and runner.iter == 2 * old['meta']['iter']
    for key in loss_keys:
        values = runner.message_hub.get_scalar(f'train/{key}').data[0]
        assert len(values) == runner.iter, key  # the old epoch's history, then this epoch's
        assert all(torch.isfinite(torch.tensor(values))), key


def test_old_offline_checkpoint_resumes(tmp_path, synth_root, teacher_checkpoint):
    old = load(OLD_OFFLINE)
    assert old['mmkd']['teacher']['checkpoint']  # names a teacher file: the fixture stands in for it
    cfg = load_config('yolox_tiny_distill_synth.py', tmp_path, synth_root)
    distill_hook_cfg(cfg)['teacher']['checkpoint'] = str(teacher_checkpoint)
    runner, restored = resume(cfg, OLD_OFFLINE)
    assert_equal_tensors(old['mmkd']['distiller'], restored['distiller'], 'distiller')
    assert any('adapter' in key for key in restored['distiller'])  # the 1x1 neck adapters
    assert_resumed_and_trained(runner, old, ('loss_neck_mse', 'loss_cls_kd', 'loss_cls'))


@pytest.mark.skipif(not OLD_ONLINE.exists(), reason='tests/data/old_online.pth (25 MB) is not committed: '
                    'write it with tests/data/make_old_checkpoints.py')
def test_old_online_checkpoint_resumes_with_its_peer(tmp_path, synth_root):
    old = load(OLD_ONLINE)
    cfg = load_config('yolox_tiny_synth.py', tmp_path, synth_root)
    cfg.custom_hooks = [*cfg.custom_hooks,
                        dict(type='mmkd.OnlineDistillationHook', distill=[NECK_MSE, CLS_KD],
                             peer=dict(config=str(CONFIGS / 'yolox_tiny_teacher_synth.py')))]
    runner, restored = resume(cfg, OLD_ONLINE)
    for key in ('distiller', 'peer', 'peer_distiller'):
        assert_equal_tensors(old['mmkd'][key], restored[key], key)
    assert_resumed_and_trained(runner, old, ('loss_neck_mse', 'loss_cls_kd', 'loss_peer_neck_mse',
                                             'loss_peer_cls_kd', 'loss_peer_cls'))
