# YOLOX teacher (configs/yolox/yolox_teacher_neon.py, neck 128 channels) -> student
# (yolox_student_neon.py, neck 64 channels, 1x1 adapters) on NEON tree crowns.
# FGFI (Wang et al., CVPR 2019) for an anchor-free head: neck imitation on the
# locations whose prior lies in a GT box or within 2.5 strides of its centre (the
# SimOTA candidate region), normalised by 2 x the number of such locations.
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
             dict(name='neck_fgfi', student='neck', teacher='neck', adapter='auto',
                  loss=dict(type='mmkd.MaskedFeatureLoss',
                            mask=dict(type='mmkd.PriorInBoxMask', center_radius=2.5),
                            normalize='mask', loss_weight=1.0)),
         ]),
]
