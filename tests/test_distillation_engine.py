"""The distillation hook through MMEngine's Runner on a real (tiny) YOLOX pair."""
import copy
import subprocess
import sys

import pytest
import torch
from mmengine.hooks import Hook
from utils import CONFIGS, REPO, distill_hook_cfg, find_distill_hook, load, load_config, train

from mmkd.engine.teacher import build_detector, load_detector_config


@pytest.fixture(scope='module')
def distilled(tmp_path_factory, synth_root, teacher_checkpoint):
    work_dir = tmp_path_factory.mktemp('distilled')
    cfg = load_config('yolox_tiny_distill_synth.py', work_dir, synth_root)
    distill_hook_cfg(cfg)['teacher']['checkpoint'] = str(teacher_checkpoint)
    runner = train(cfg)
    return runner, work_dir


def test_teacher_stays_frozen_and_unchanged(distilled, teacher_checkpoint):
    runner, _ = distilled
    teacher = find_distill_hook(runner).teacher
    assert not teacher.training
    assert all(not module.training for module in teacher.modules())
    assert not any(p.requires_grad for p in teacher.parameters())
    saved = load(teacher_checkpoint)['state_dict']
    for name, value in teacher.state_dict().items():
        assert torch.equal(value.cpu(), saved[name].cpu()), name


def test_student_and_adapters_train(distilled):
    _, work_dir = distilled
    first, last = load(work_dir / 'epoch_1.pth'), load(work_dir / 'epoch_3.pth')
    assert not torch.equal(first['state_dict']['neck.out_convs.0.conv.weight'],
                           last['state_dict']['neck.out_convs.0.conv.weight'])
    adapters = [key for key in last['mmkd']['distiller'] if key.startswith('adapters.neck_mse')]
    assert len(adapters) == 6  # weight and bias of three 1x1 convolutions
    assert any(not torch.equal(first['mmkd']['distiller'][k], last['mmkd']['distiller'][k]) for k in adapters)


def test_losses_are_logged_finite_and_feature_loss_goes_down(distilled):
    runner, _ = distilled
    hub = runner.message_hub
    for key in ('train/loss_neck_mse', 'train/loss_cls_kd', 'train/loss_cls'):
        values = hub.get_scalar(key).data[0]
        assert len(values) == 18 and all(torch.isfinite(torch.tensor(values))), key
    neck = hub.get_scalar('train/loss_neck_mse').data[0]
    assert neck[-3:].mean() < 0.8 * neck[:3].mean()


def test_yolox_recipe_hooks_ran(distilled):
    runner, work_dir = distilled
    assert runner.model.bbox_head.use_l1  # YOLOXModeSwitchHook switched the last epoch
    checkpoint = load(work_dir / 'epoch_3.pth')
    student_keys = set(checkpoint['state_dict'])
    ema_keys = {key[len('module.'):] for key in checkpoint['ema_state_dict'] if key.startswith('module.')}
    assert ema_keys == student_keys  # the EMA copy holds the student only


def test_checkpoint_is_a_plain_mmdet_checkpoint(distilled):
    _, work_dir = distilled
    checkpoint = load(work_dir / 'epoch_3.pth')
    plain = build_detector(load_detector_config(str(CONFIGS / 'yolox_tiny_synth.py'), 'config'))
    result = plain.load_state_dict(checkpoint['state_dict'], strict=True)
    assert not result.missing_keys and not result.unexpected_keys
    assert set(checkpoint['mmkd']) == {'distiller', 'teacher'}


def test_published_checkpoint_loads_with_mmdet_alone(distilled, tmp_path):
    _, work_dir = distilled
    published = tmp_path / 'student.pth'
    subprocess.run([sys.executable, str(REPO / 'tools' / 'publish_model.py'), str(work_dir / 'epoch_3.pth'),
                    str(published)], check=True, cwd=REPO)
    code = ('from mmdet.apis import init_detector; import sys; '
            f'm = init_detector(r"{CONFIGS / "yolox_tiny_synth.py"}", r"{published}", device="cpu"); '
            'assert "mmkd" not in sys.modules; print("loaded", type(m).__name__)')
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, cwd=REPO)
    assert out.returncode == 0, out.stderr[-2000:]
    assert 'loaded YOLOX' in out.stdout


class _SnapshotDistiller(Hook):
    """Copies the distillation modules' state when training starts (after resume)."""
    priority = 'LOWEST'

    def before_train(self, runner) -> None:
        self.state = copy.deepcopy(find_distill_hook(runner).distiller.state_dict())


def test_resume_restores_distillation_state_and_finishes(distilled, tmp_path, synth_root, teacher_checkpoint):
    _, work_dir = distilled
    resumed_from = work_dir / 'epoch_2.pth'
    cfg = load_config('yolox_tiny_distill_synth.py', tmp_path, synth_root, resume=True, load_from=str(resumed_from))
    distill_hook_cfg(cfg)['teacher']['checkpoint'] = str(teacher_checkpoint)
    from mmengine.runner import Runner
    runner = Runner.from_cfg(cfg)
    snapshot = _SnapshotDistiller()
    runner.register_hook(snapshot)
    runner.train()
    saved = load(resumed_from)['mmkd']['distiller']
    assert snapshot.state.keys() == saved.keys()
    assert all(torch.equal(snapshot.state[k].cpu(), saved[k]) for k in saved)
    assert runner.epoch == 3 and runner.iter == 18
    final = load(tmp_path / 'epoch_3.pth')
    assert len(final['optimizer']['param_groups']) == len(load(resumed_from)['optimizer']['param_groups'])


def test_gradient_accumulation_trains_adapters(tmp_path, synth_root, teacher_checkpoint):
    cfg = load_config('yolox_tiny_distill_synth.py', tmp_path, synth_root,
                      optim_wrapper=dict(accumulative_counts=2), train_cfg=dict(max_epochs=1, val_interval=5))
    distill_hook_cfg(cfg)['teacher']['checkpoint'] = str(teacher_checkpoint)
    runner = train(cfg)
    adapter = find_distill_hook(runner).distiller.adapters['neck_mse'][0].conv.weight
    state = runner.optim_wrapper.optimizer.state
    assert adapter in state and 'momentum_buffer' in state[adapter]
