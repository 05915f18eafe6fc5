"""The engine is generic: RTMDet, GFL, FCOS and ATSS students distil from wider teachers."""
from types import SimpleNamespace

import pytest
import torch
from utils import CONFIGS, load, load_config, load_mmdet_config, train, untrained_checkpoint

from mmkd.engine.teacher import build_detector, load_detector_config
from mmkd.hooks import DistillationHook


@pytest.mark.parametrize('student,teacher', [('rtmdet_tiny_synth.py', 'rtmdet_tiny_teacher_synth.py'),
                                             ('gfl_tiny_synth.py', 'gfl_tiny_teacher_synth.py')])
def test_feature_and_logit_distillation_trains(student, teacher, tmp_path, synth_root):
    teacher_cfg = load_detector_config(str(CONFIGS / teacher), 'teacher')
    checkpoint = untrained_checkpoint(teacher_cfg, tmp_path / 'teacher.pth')
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


@pytest.mark.parametrize('student,teacher', [('fcos_tiny_synth.py', 'fcos_tiny_teacher_synth.py'),
                                             ('atss_tiny_synth.py', 'atss_tiny_teacher_synth.py')])
def test_response_kd_on_centerness_heads(student, teacher, tmp_path, synth_root):
    """FCOS and ATSS students from mmdet's own configs: the response losses,
    centerness included, train two iterations through the hook."""
    teacher_cfg = load_detector_config(str(CONFIGS / teacher), 'teacher')
    checkpoint = untrained_checkpoint(teacher_cfg, tmp_path / 'teacher.pth')
    entries = dict(cls_kd=dict(type='mmkd.SigmoidKDLoss', beta=2.0),
                   cls_dkd=dict(type='mmkd.DKDLoss', target='gt'),
                   box_kd=dict(type='mmkd.BoxKDLoss', score_thr=0.0))
    hook = dict(type='mmkd.DistillationHook',
                teacher=dict(config=str(CONFIGS / teacher), checkpoint=checkpoint),
                distill=[dict(name=name, student='bbox_head', teacher='bbox_head', loss=loss)
                         for name, loss in entries.items()],
                probe_input_size=(64, 64))
    cfg = load_mmdet_config(student, tmp_path, synth_root, custom_hooks=[hook],
                            custom_imports=dict(imports=['mmkd'], allow_failed_imports=False),
                            train_dataloader=dict(dataset=dict(indices=8)))  # two batches of 4
    runner = train(cfg)
    for name in entries:
        values = torch.tensor(runner.message_hub.get_scalar(f'train/loss_{name}').data[0])
        assert len(values) == 2 and torch.isfinite(values).all() and (values > 0).all(), name


def test_unsupported_response_head_refused_before_the_teacher(tmp_path):
    """A softmax FCOS student: one line naming the entry, the head and the
    supported heads, before the (missing) teacher checkpoint is looked at."""
    cfg = load_detector_config(str(CONFIGS / 'fcos_tiny_synth.py'), 'student')
    cfg.model.bbox_head.loss_cls = dict(type='CrossEntropyLoss', use_sigmoid=False)
    student = build_detector(cfg)
    hook = DistillationHook(
        teacher=dict(config=str(CONFIGS / 'fcos_tiny_teacher_synth.py'), checkpoint=str(tmp_path / 'missing.pth')),
        distill=[dict(student='neck', teacher='neck', loss=dict(type='mmkd.FeatureMSELoss')),
                 dict(student='bbox_head', teacher='bbox_head', loss=dict(type='mmkd.SigmoidKDLoss'))])
    with pytest.raises(TypeError) as error:
        hook.set_up(SimpleNamespace(model=student))
    assert str(error.value).startswith(
        'distill[1] (SigmoidKDLoss on student "bbox_head"): Response KD does not support FCOSHead with a '
        'softmax classifier (use_sigmoid_cls=False). Supported heads (sigmoid classifiers only): ')
    assert 'FCOSHead, ATSSHead' in str(error.value) and '\n' not in str(error.value)
