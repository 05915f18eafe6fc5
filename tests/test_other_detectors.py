"""The engine is generic: RTMDet and GFL students distil from wider teachers."""
import pytest
import torch

from mmkd.engine.teacher import build_detector, load_detector_config
from utils import CONFIGS, load, load_config, train


def _untrained_teacher_checkpoint(config: str, path) -> str:
    """Initialised teacher weights: the engine's mechanics do not depend on accuracy."""
    teacher = build_detector(load_detector_config(str(CONFIGS / config), 'teacher'))
    teacher.init_weights()
    torch.save({'state_dict': teacher.state_dict(), 'meta': {}}, path)
    return str(path)


@pytest.mark.parametrize('student,teacher', [('rtmdet_tiny_synth.py', 'rtmdet_tiny_teacher_synth.py'),
                                             ('gfl_tiny_synth.py', 'gfl_tiny_teacher_synth.py')])
def test_feature_and_logit_distillation_trains(student, teacher, tmp_path, synth_root):
    checkpoint = _untrained_teacher_checkpoint(teacher, tmp_path / 'teacher.pth')
    hook = dict(type='mmkd.DistillationHook',
                teacher=dict(config=str(CONFIGS / teacher), checkpoint=checkpoint),
                distill=[dict(name='neck_mse', student='neck', teacher='neck',
                              loss=dict(type='mmkd.FeatureMSELoss')),
                         dict(name='cls_kd', student='bbox_head[0]', teacher='bbox_head[0]',
                              loss=dict(type='mmkd.KDLoss', temperature=2.0))])
    cfg = load_config(student, tmp_path, synth_root, custom_hooks=[hook],
                      custom_imports=dict(imports=['mmkd'], allow_failed_imports=False))
    runner = train(cfg)
    for key in ('train/loss_neck_mse', 'train/loss_cls_kd'):
        values = torch.tensor(runner.message_hub.get_scalar(key).data[0])
        assert len(values) == 6 and torch.isfinite(values).all() and (values > 0).all(), key
    plain = build_detector(load_detector_config(str(CONFIGS / student), 'config'))
    plain.load_state_dict(load(tmp_path / 'epoch_1.pth')['state_dict'], strict=True)
