# YOLOX teacher (configs/yolox/yolox_teacher_synth.py, neck 128 channels) -> student
# (yolox_student_synth.py, neck 64 channels, 1x1 adapters) on the synthetic shapes.
# DeFeat (Guo et al., CVPR 2021): decoupled foreground / background neck
# imitation, weights 3 and 12 of the official config averaged over levels -> 1 and 4
# summed over the 3 YOLOX levels.
# See docs/feature_kd.md.
_base_ = '../yolox/yolox_student_synth.py'

custom_imports = dict(imports=['mmkd'], allow_failed_imports=False)
teacher_config = 'configs/yolox/yolox_teacher_synth.py'
teacher_checkpoint = 'work_dirs/yolox_teacher_synth/teacher.pth'
custom_hooks = [
    dict(type='YOLOXModeSwitchHook', num_last_epochs={{_base_.num_last_epochs}}, priority=48),
    dict(type='SyncNormHook', priority=48),
    dict(type='EMAHook', ema_type='ExpMomentumEMA', momentum=0.0001, update_buffers=True, priority=49),
    dict(type='mmkd.DistillationHook',
         teacher=dict(config=teacher_config, checkpoint=teacher_checkpoint),
         distill=[
             dict(name='neck_defeat', student='neck', teacher='neck', adapter='auto',
                  loss=dict(type='mmkd.MaskedFeatureLoss',
                            mask=dict(type='mmkd.DecoupledMask', fg_weight=1.0, bg_weight=4.0),
                            normalize='none', loss_weight=1.0)),
         ]),
]
