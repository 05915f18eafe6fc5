"""Each bad distillation config stops at start with one error naming the key."""
import pytest
import torch
from utils import distill_hook_cfg, load, load_config, train


def _distill_cfg(tmp_path, synth_root, teacher_checkpoint, **hook_changes):
    cfg = load_config('yolox_tiny_distill_synth.py', tmp_path, synth_root,
                      train_cfg=dict(max_epochs=1, val_interval=5))
    hook = distill_hook_cfg(cfg)
    hook['teacher']['checkpoint'] = str(teacher_checkpoint)
    hook.update(hook_changes)
    return cfg


def _entry(student='neck', teacher='neck', **extra):
    return dict(name='feat', student=student, teacher=teacher,
                loss=dict(type='mmkd.FeatureMSELoss'), **extra)


def test_missing_teacher_checkpoint(tmp_path, synth_root, teacher_checkpoint):
    cfg = _distill_cfg(tmp_path, synth_root, teacher_checkpoint)
    distill_hook_cfg(cfg)['teacher']['checkpoint'] = str(tmp_path / 'nope.pth')
    with pytest.raises(FileNotFoundError, match='teacher.checkpoint=.*nope.pth.*train the teacher first'):
        train(cfg)


def test_missing_teacher_config(tmp_path, synth_root, teacher_checkpoint):
    cfg = _distill_cfg(tmp_path, synth_root, teacher_checkpoint)
    distill_hook_cfg(cfg)['teacher']['config'] = 'configs/nope.py'
    with pytest.raises(FileNotFoundError, match='teacher.config="configs/nope.py" does not exist'):
        train(cfg)


def test_checkpoint_that_does_not_match_the_teacher_config(tmp_path, synth_root, teacher_checkpoint):
    cfg = _distill_cfg(tmp_path, synth_root, teacher_checkpoint)
    distill_hook_cfg(cfg)['teacher']['config'] = 'tests/configs/yolox_tiny_synth.py'
    with pytest.raises(ValueError, match='does not match the teacher config: .*keys'):
        train(cfg)


def test_module_path_that_matches_nothing_lists_close_names(tmp_path, synth_root, teacher_checkpoint):
    cfg = _distill_cfg(tmp_path, synth_root, teacher_checkpoint, distill=[_entry(student='neck.out_conv')])
    with pytest.raises(KeyError, match=r'distill\[0\].student="neck.out_conv" matches no module.*Close names'):
        train(cfg)


def test_channel_mismatch_without_adapter(tmp_path, synth_root, teacher_checkpoint):
    cfg = _distill_cfg(tmp_path, synth_root, teacher_checkpoint, distill=[_entry(adapter=None)])
    with pytest.raises(ValueError, match=r'distill\[0\]: adapter=None but student neck .*differ'):
        train(cfg)


def test_stride_mismatch_without_resizing_adapter(tmp_path, synth_root, teacher_checkpoint):
    cfg = _distill_cfg(tmp_path, synth_root, teacher_checkpoint,
                       distill=[_entry(student='neck[0]', teacher='neck[1]')])
    with pytest.raises(ValueError, match=r'strides differ .*\[8.0\].*\[16.0\].*resize=True'):
        train(cfg)


def test_stride_mismatch_with_resizing_adapter_trains(tmp_path, synth_root, teacher_checkpoint):
    adapter = dict(type='mmkd.ConvAdapter', resize=True)
    cfg = _distill_cfg(tmp_path, synth_root, teacher_checkpoint,
                       distill=[_entry(student='neck[0]', teacher='neck[1]', adapter=adapter)])
    runner = train(cfg)
    assert runner.message_hub.get_scalar('train/loss_feat').current() > 0


def test_teacher_with_other_classes(tmp_path, synth_root, teacher_checkpoint):
    checkpoint = load(teacher_checkpoint)
    checkpoint['meta']['dataset_meta'] = dict(checkpoint['meta']['dataset_meta'], classes=('a', 'b', 'c'))
    other = tmp_path / 'other_classes.pth'
    torch.save(checkpoint, other)
    cfg = _distill_cfg(tmp_path, synth_root, other)
    with pytest.raises(ValueError, match=r"teacher was trained on classes \('a', 'b', 'c'\)"):
        train(cfg)


def test_class_count_mismatch_for_response_kd(tmp_path, synth_root, teacher_checkpoint):
    entry = dict(name='kd', student='bbox_head[0]', teacher='bbox_head[0]', loss=dict(type='mmkd.KDLoss'))
    cfg = _distill_cfg(tmp_path, synth_root, teacher_checkpoint, distill=[entry])
    cfg.model.bbox_head.num_classes = 2
    with pytest.raises(ValueError, match='num_classes=3 but student bbox_head.num_classes=2'):
        train(cfg)


def test_non_finite_distillation_loss_stops_training(tmp_path, synth_root, teacher_checkpoint):
    entry = dict(name='bad', student='neck', teacher='neck',
                 loss=dict(type='mmkd.FeatureMSELoss', loss_weight=float('nan')))
    cfg = _distill_cfg(tmp_path, synth_root, teacher_checkpoint, distill=[entry])
    with pytest.raises(FloatingPointError, match=r"loss \['loss_bad'\] is not finite at iteration 1"):
        train(cfg)


def test_loss_name_colliding_with_the_students_own_loss(tmp_path, synth_root, teacher_checkpoint):
    cfg = _distill_cfg(tmp_path, synth_root, teacher_checkpoint, distill=[dict(_entry(), name='cls')])
    with pytest.raises(KeyError, match=r"\['loss_cls'\] collide"):
        train(cfg)
