# Deep-to-shallow self-distillation (_base_/schemes/self_d2s.py) on NEON tree crowns: the
# student's neck (64 channels) teaches its backbone levels through 1x1 adapters
# (64/128/256 -> 64 channels, widen 0.25). Warm-up: the synthetic run's tenth (32 of 320
# iterations), 20 of 200 here (4 epochs of 5). No loss balance, as in the synthetic config.
_base_ = ['../../yolox/yolox_student_neon.py', '../_base_/schemes/self_d2s.py']

custom_hooks = _base_.custom_hooks + [dict(_base_.scheme_hook, schedule=dict(warmup_iters=20))]
