# Snapshot distillation on NEON with the paper's cyclic learning rate: the cycle and start of
# snapshot_yolox_neon.py (a snapshot every 40 iterations, distilling from the first) on the
# cyclic student (configs/yolox/yolox_student_cyclic_neon.py), whose cosine cycles of 8 epochs
# (40 iterations) end where the snapshots are taken. Tests whether snapshot_yolox_neon.py's
# residual harm comes from a teacher taken mid-schedule, the same student a cycle less trained
# (docs/results.md, "Snapshot distillation: why it ran away, and what is left").
_base_ = ['../../yolox/yolox_student_cyclic_neon.py', '../_base_/schemes/snapshot.py']

custom_hooks = _base_.custom_hooks + [
    dict(_base_.scheme_hook, averaging=dict(_base_.scheme_hook.averaging, interval=40),
         schedule=dict(start_iter=40))]
