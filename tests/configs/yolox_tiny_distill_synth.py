# The test student distilled from the test teacher: neck feature MSE through
# 1x1 adapters plus Hinton KD on the class logits.
_base_ = './yolox_tiny_synth.py'

custom_imports = dict(imports=['mmkd'], allow_failed_imports=False)
teacher_config = 'tests/configs/yolox_tiny_teacher_synth.py'
teacher_checkpoint = 'work_dirs/tests/teacher.pth'
# The student's own hooks (YOLOX mode switch, SyncNorm, EMA) stay; mmkd's is appended.
custom_hooks = _base_.custom_hooks + [
    dict(type='mmkd.DistillationHook',
         teacher=dict(config=teacher_config, checkpoint=teacher_checkpoint),
         distill=[
             dict(name='neck_mse', student='neck', teacher='neck',
                  loss=dict(type='mmkd.FeatureMSELoss', loss_weight=1.0)),
             dict(name='cls_kd', student='bbox_head[0]', teacher='bbox_head[0]',
                  loss=dict(type='mmkd.KDLoss', temperature=2.0, loss_weight=1.0)),
         ]),
]
