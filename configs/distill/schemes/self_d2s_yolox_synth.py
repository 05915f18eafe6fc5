# Deep-to-shallow self-distillation (_base_/schemes/self_d2s.py) on the synthetic shapes:
# the student's neck (64 channels) teaches its backbone levels through 1x1 adapters
# (64/128/256 -> 64 channels). Warm-up: the first 32 of 320 iterations (one epoch).
_base_ = ['../../yolox/yolox_student_synth.py', '../_base_/schemes/self_d2s.py']

custom_hooks = _base_.custom_hooks + [dict(_base_.scheme_hook, schedule=dict(warmup_iters=32))]
