# Multi-teacher distillation with fixed weights on the synthetic shapes: a
# YOLOX-s (neck 128 ch) and an RTMDet-tiny (CSPNeXt, neck 96 ch, its own
# normalisation) teach the YOLOX student's neck together,
#   L = 0.5 * MSE(r_1(S), T_yolox) + 0.5 * MSE(r_2(S), T_rtmdet),
# one set of 1x1 adapters per teacher (combine='loss'), so architectures mix.
# Response KD across detector families is not paired (different heads); see
# multi_teacher_confidence_yolox_synth.py for a per-image response ensemble.
# Cost: two frozen teachers, two teacher forwards per step.
_base_ = '../../yolox/yolox_student_synth.py'

custom_imports = dict(imports=['mmkd'], allow_failed_imports=False)
teachers = [
    dict(name='yolox_s', config='configs/yolox/yolox_teacher_synth.py',
         checkpoint='work_dirs/yolox_teacher_synth/teacher.pth'),
    dict(name='rtmdet', config='configs/rtmdet/rtmdet_teacher_synth.py',
         checkpoint='work_dirs/rtmdet_teacher_synth/teacher.pth'),
]
custom_hooks = _base_.custom_hooks + [
    dict(type='mmkd.MultiTeacherDistillationHook',
         teachers=teachers,
         combine='loss',
         weighting=dict(type='mmkd.FixedTeacherWeights', weights=[0.5, 0.5]),
         distill=[
             dict(name='neck_mse', student='neck', teacher='neck',
                  loss=dict(type='mmkd.FeatureMSELoss', loss_weight=1.0)),
         ]),
]
