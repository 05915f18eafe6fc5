# Stage 1 of teacher_assistant_yolox_synth.py: the YOLOX-s assistant learns
# from the YOLOX-m teacher (neck 192 -> 128 channels through 1x1 adapters,
# plus sigmoid KD on the head). tools/teacher_assistant.py sets the teacher.
_base_ = '../../yolox/yolox_teacher_synth.py'

custom_imports = dict(imports=['mmkd'], allow_failed_imports=False)
distill = [
    dict(name='neck_mse', student='neck', teacher='neck',
         loss=dict(type='mmkd.FeatureMSELoss', loss_weight=1.0)),
    dict(name='head_kd', student='bbox_head', teacher='bbox_head',
         loss=dict(type='mmkd.SigmoidKDLoss', loss_weight=1.0)),
]
custom_hooks = _base_.custom_hooks + [
    dict(type='mmkd.DistillationHook',
         teacher=dict(config='<set by tools/teacher_assistant.py>', checkpoint=None),
         distill=distill),
]
