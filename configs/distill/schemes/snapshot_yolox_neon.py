# Snapshot distillation (_base_/schemes/snapshot.py) on NEON tree crowns. Cycle: a snapshot
# every 40 of 200 iterations (8 epochs of 5), 5 cycles as in the synthetic run (64 of 320); a
# 2-epoch cycle (10 iterations) would leave the teacher only 10 SGD steps behind the student.
# The first cycle trains alone, as in the paper: distillation starts at the first snapshot
# (start_iter=40). Distilling from iteration 0 taught the untrained initial student's eval-mode
# outputs and the neck MSE ran away (docs/results.md, "Schemes on NEON").
# update_buffers=True: the snapshot takes the student's BN statistics with its weights (the
# teacher runs in eval mode; the default would pair old weights with the live statistics).
_base_ = ['../../yolox/yolox_student_neon.py', '../_base_/schemes/snapshot.py']

custom_hooks = _base_.custom_hooks + [
    dict(_base_.scheme_hook, averaging=dict(_base_.scheme_hook.averaging, interval=40, update_buffers=True),
         schedule=dict(start_iter=40))]
