"""Every shipped distillation config builds and distils: its student, its teacher config,
its module paths, adapters and losses, on one random batch (teachers randomly initialised).

This includes the COCO-scale YOLOX-L -> YOLOX-S configs, whose data is not here."""
from pathlib import Path

import pytest
import torch
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper

from mmkd.engine.standalone import (
    attach_hook,
    distillation_hook_cfg,
    is_distillation_hook_cfg,
    random_checkpoint,
    random_detection_batch,
)
from mmkd.engine.teacher import build_detector
from mmkd.quant.modules import is_quantized

REPO = Path(__file__).resolve().parents[1]
# the offline configs, and their INT8 quantisation-aware versions (configs/distill/quant/)
DISTILL_CONFIGS = sorted(str(path.relative_to(REPO)) for pattern in ('*.py', 'quant/*.py')
                         for path in (REPO / 'configs' / 'distill').glob(pattern))
# label assignment alone (lad_yolox_neon.py) has no distillation hook: tests/test_teacher_assignment.py checks it
HOOK_CONFIGS = [config for config in DISTILL_CONFIGS if any(
    is_distillation_hook_cfg(hook) for hook in Config.fromfile(str(REPO / config)).get('custom_hooks', []))]
OPTIM = dict(type='OptimWrapper', optimizer=dict(type='SGD', lr=0.01))


@pytest.fixture(scope='module')
def random_teacher_checkpoints(tmp_path_factory):
    """One randomly initialised checkpoint per teacher config, written on first use."""
    cache = {}

    def checkpoint_for(teacher_config: str) -> str:
        if teacher_config not in cache:
            torch.manual_seed(0)
            cache[teacher_config] = random_checkpoint(teacher_config,
                                                      str(tmp_path_factory.mktemp('teacher') / 'random.pth'))
        return cache[teacher_config]
    return checkpoint_for


def test_every_method_has_configs_for_both_bundled_datasets_and_coco():
    names = {Path(config).stem for config in DISTILL_CONFIGS}
    for method in ('fgfi', 'defeat', 'gid', 'fgd', 'cwd', 'pkd', 'attention', 'sigmoid_kd', 'dkd', 'bbox_kd'):
        assert {f'{method}_yolox_neon', f'{method}_yolox_synth', f'{method}_yolox_l_s_coco'} <= names, method


@pytest.mark.parametrize('config', HOOK_CONFIGS)
def test_config_distils_on_a_random_batch(config, random_teacher_checkpoints, monkeypatch):
    monkeypatch.chdir(REPO)  # teacher configs are paths relative to the repository
    cfg = Config.fromfile(config)
    hook_cfg = distillation_hook_cfg(cfg)
    teacher_cfg = hook_cfg['teacher']
    hook_cfg['teacher'] = dict(teacher_cfg, checkpoint=random_teacher_checkpoints(teacher_cfg['config']))
    torch.manual_seed(0)
    student = build_detector(cfg).train()
    assert is_quantized(student) == ('/quant/' in config)  # the QAT configs' student is fake-quantised
    hook = attach_hook(hook_cfg, student, build_optim_wrapper(student, OPTIM), OPTIM)
    # pixels in [0, 1]: a random network with BN in eval mode (the frozen teacher) blows raw
    # 0-255 pixels up to infinite decoded boxes; trained BN statistics keep them in range
    head = student.roi_head.bbox_head if hasattr(student, 'roi_head') else student.bbox_head
    inputs, samples = random_detection_batch(2, 128, head.num_classes, boxes_per_image=4,
                                             pixel_max=1.0)

    losses = student(inputs, samples, mode='loss')

    distill_keys = {f'loss_{entry["name"]}' for entry in hook_cfg['distill']}
    assert distill_keys <= set(losses), f'{config}: {sorted(distill_keys - set(losses))} missing'
    total = sum(value.sum() for key, value in losses.items() if key in distill_keys)
    assert torch.isfinite(total)
    total.backward()
    student_grads = [p.grad for p in student.parameters() if p.grad is not None]
    assert student_grads and all(torch.isfinite(grad).all() for grad in student_grads)
    assert not any(p.requires_grad for p in hook.teacher.parameters())
