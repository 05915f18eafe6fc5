# Mean-teacher self-distillation (_base_/schemes/mean_teacher.py) on the synthetic shapes:
# the teacher averages the synthetic student (widen 0.25). The distillation warms up over
# the first 2 epochs (64 of 320 iterations) while the average settles.
_base_ = ['../../yolox/yolox_student_synth.py', '../_base_/schemes/mean_teacher.py']

custom_hooks = _base_.custom_hooks + [dict(_base_.scheme_hook, schedule=dict(warmup_iters=64))]
