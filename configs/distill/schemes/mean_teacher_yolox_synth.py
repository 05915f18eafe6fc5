# Mean-teacher self-distillation (Tarvainen & Valpola, NeurIPS 2017) on the
# synthetic shapes: the teacher is an exponential moving average of the
# student itself (theta_T <- 0.99 theta_T + 0.01 theta_S after every
# iteration, BN statistics averaged too), frozen, in eval mode and outside
# runner.model; saved under checkpoint['mmkd']['averaged'] and resumed.
# Distils class/objectness responses and neck features. The distillation
# warms up over the first 2 epochs while the average settles.
# Cost: one extra frozen model, one teacher forward per step.
_base_ = '../../yolox/yolox_student_synth.py'

custom_imports = dict(imports=['mmkd'], allow_failed_imports=False)
custom_hooks = _base_.custom_hooks + [
    dict(type='mmkd.MeanTeacherDistillationHook',
         averaging=dict(type='ExponentialMovingAverage', momentum=0.01, update_buffers=True),
         distill=[
             dict(name='head_kd', student='bbox_head', teacher='bbox_head',
                  loss=dict(type='mmkd.SigmoidKDLoss', loss_weight=1.0)),
             dict(name='neck_mse', student='neck', teacher='neck',
                  loss=dict(type='mmkd.FeatureMSELoss', loss_weight=0.5)),
         ],
         schedule=dict(warmup_iters=64)),
]
