# Mean-teacher self-distillation (_base_/schemes/mean_teacher.py) on NEON tree crowns: the
# teacher averages the NEON student (widen 0.25, 64-channel neck, ~2.2 M params).
# Schedule (200 iterations: 40 epochs of 5): momentum 0.01, the paper's 0.99 decay, kept
# (an average over ~100 iterations, half of this run); the warm-up keeps the synthetic
# run's fifth (64 of 320): 40 iterations (8 epochs). No loss balance: the terms start near
# zero (the teacher starts as the student).
_base_ = ['../../yolox/yolox_student_neon.py', '../_base_/schemes/mean_teacher.py']

custom_hooks = _base_.custom_hooks + [dict(_base_.scheme_hook, schedule=dict(warmup_iters=40))]
