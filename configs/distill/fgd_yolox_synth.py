# YOLOX teacher (configs/yolox/yolox_teacher_synth.py, neck 128 channels) -> student
# (yolox_student_synth.py, neck 64 channels, 1x1 adapters) on the synthetic shapes.
# FGD (Yang et al., CVPR 2022): focal (scale-aware fg/bg, teacher attention)
# and global (GcBlock relation) distillation on the neck, with the official YOLOX
# weights alpha=2e-3, beta=1e-3, gamma=1e-3, lambda=1e-5, T=0.5.
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
             dict(name='neck_fgd', student='neck', teacher='neck', adapter='auto',
                  loss=dict(type='mmkd.FGDLoss', in_channels=[128, 128, 128], alpha_fg=2e-3,
                            beta_bg=1e-3, gamma_at=1e-3, lambda_global=1e-5, temperature=0.5)),
         ]),
]
