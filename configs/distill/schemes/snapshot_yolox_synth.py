# Snapshot distillation (_base_/schemes/snapshot.py) on the synthetic shapes: a snapshot
# every 64 iterations (2 epochs of 32; 5 cycles in 320 iterations). The first cycle trains
# alone, as in the paper: distillation starts at the first snapshot (start_iter=64).
_base_ = ['../../yolox/yolox_student_synth.py', '../_base_/schemes/snapshot.py']

custom_hooks = _base_.custom_hooks + [
    dict(_base_.scheme_hook, averaging=dict(_base_.scheme_hook.averaging, interval=64),
         schedule=dict(start_iter=64))]
