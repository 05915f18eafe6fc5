# Mean-teacher self-distillation (Tarvainen & Valpola, NeurIPS 2017): the teacher is an
# exponential moving average of the student itself (theta_T <- 0.99 theta_T + 0.01 theta_S
# after every iteration, BN statistics averaged too), frozen, in eval mode and outside
# runner.model; saved under checkpoint['mmkd']['averaged'] and resumed. Distils the
# class/objectness responses (sigmoid KD) and the neck features (MSE; same widths, no adapter).
# Cost: one extra frozen copy of the student, one teacher forward a step.
# A leaf sets the warm-up (schedule=dict(warmup_iters=...)), a share of its run, while the
# average leaves the random initial weights. See docs/schemes.md.
# Used by configs/distill/schemes/mean_teacher_yolox_*.py (and, via snapshot.py, snapshot_*).
custom_imports = dict(imports=['mmkd'], allow_failed_imports=False)
scheme_hook = dict(
    type='mmkd.MeanTeacherDistillationHook',
    averaging=dict(type='ExponentialMovingAverage', momentum=0.01, update_buffers=True),
    distill=[
        dict(name='head_kd', student='bbox_head', teacher='bbox_head',
             loss=dict(type='mmkd.SigmoidKDLoss', loss_weight=1.0)),
        dict(name='neck_mse', student='neck', teacher='neck',
             loss=dict(type='mmkd.FeatureMSELoss', loss_weight=0.5)),
    ])
