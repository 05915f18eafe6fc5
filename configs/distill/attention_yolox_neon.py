# YOLOX teacher (configs/yolox/yolox_teacher_neon.py, neck 128 channels) -> student
# (yolox_student_neon.py, neck 64 channels, 1x1 adapters) on NEON tree crowns.
# Zhang & Ma (ICLR 2021): attention-guided distillation (attention transfer +
# attention-masked imitation) on all neck levels and non-local distillation on the
# stride-16/32 levels with sub-sampled keys (a stride-8 non-local costs too much on
# CPU; see docs/feature_kd.md), one-stage weights alpha=gamma=4e-4, beta=2e-2.
# See docs/feature_kd.md.
_base_ = '../yolox/yolox_student_neon.py'

custom_imports = dict(imports=['mmkd'], allow_failed_imports=False)
teacher_config = 'configs/yolox/yolox_teacher_neon.py'
teacher_checkpoint = 'work_dirs/yolox_teacher_neon/teacher.pth'
custom_hooks = [
    dict(type='YOLOXModeSwitchHook', num_last_epochs={{_base_.num_last_epochs}}, priority=48),
    dict(type='SyncNormHook', priority=48),
    dict(type='EMAHook', ema_type='ExpMomentumEMA', momentum=0.0001, update_buffers=True, priority=49),
    dict(type='mmkd.DistillationHook',
         teacher=dict(config=teacher_config, checkpoint=teacher_checkpoint),
         distill=[
             dict(name='neck_attention', student='neck', teacher='neck', adapter='auto',
                  loss=dict(type='mmkd.AttentionGuidedLoss', alpha_at=4e-4, beta_am=2e-2,
                            temperature=0.5)),
             dict(name='neck_nonlocal_1', student='neck[1]', teacher='neck[1]', adapter='auto',
                  loss=dict(type='mmkd.NonLocalDistillLoss', in_channels=[128], gamma=4e-4,
                            sub_sample=True)),
             dict(name='neck_nonlocal_2', student='neck[2]', teacher='neck[2]', adapter='auto',
                  loss=dict(type='mmkd.NonLocalDistillLoss', in_channels=[128], gamma=4e-4,
                            sub_sample=True)),
         ]),
]
