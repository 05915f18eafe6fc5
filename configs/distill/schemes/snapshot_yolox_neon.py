# Snapshot distillation (_base_/schemes/snapshot.py) on NEON tree crowns. Cycle: a snapshot
# every 40 of 200 iterations (8 epochs of 5), 5 cycles as in the synthetic run (64 of 320); a
# 2-epoch cycle (10 iterations) would leave the teacher only 10 SGD steps behind the student.
# The first cycle trains alone, as in the paper: distillation starts at the first snapshot
# (start_iter=40). The snapshot normalises with batch statistics (the base's bn_statistics).
# Distilling from iteration 0 to an eval-mode snapshot made the neck MSE run away and lowered
# the student on every seed (docs/results.md, "Schemes on NEON").
_base_ = ['../../yolox/yolox_student_neon.py', '../_base_/schemes/snapshot.py']

custom_hooks = _base_.custom_hooks + [
    dict(_base_.scheme_hook, averaging=dict(_base_.scheme_hook.averaging, interval=40),
         schedule=dict(start_iter=40))]
