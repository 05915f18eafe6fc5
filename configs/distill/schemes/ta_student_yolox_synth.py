# Stage 2 of teacher_assistant_yolox_synth.py: the student (widen 0.25, neck
# 64 channels) learns from the trained YOLOX-s assistant (neck 128 channels)
# with the entries of stage 1. tools/teacher_assistant.py sets the teacher.
_base_ = '../../yolox/yolox_student_synth.py'

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
