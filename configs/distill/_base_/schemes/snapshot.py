# Snapshot distillation (Yang et al., CVPR 2019): the teacher is the student's own
# snapshot, refreshed every `interval` iterations by mmkd.SnapshotModel, and teaches the
# student through the next cycle. Same mechanics and distillation entries as
# mean_teacher.py, except the averaging and the teacher's BN statistics: the snapshot
# normalises with the statistics of the batch it teaches on, as the student does
# (bn_statistics='batch'); its stored running statistics trail its weights early in
# training: in eval mode the NEON student's copy after 40 iterations differs from the
# training-mode student by a neck MSE of 8.4e4 (benchmarks/snapshot_bn_gap.py).
# Cost: one extra frozen copy of the student, one teacher forward a step.
# A leaf sets the cycle (averaging=dict(_base_.scheme_hook.averaging, interval=...)) and
# starts distilling at the first snapshot (schedule=dict(start_iter=interval); the hook
# refuses an earlier start). See docs/schemes.md.
# Used by configs/distill/schemes/snapshot_yolox_*.py.
_base_ = './mean_teacher.py'

# _delete_: replace mean_teacher.py's averaging (its momentum does not apply), not merge into it
scheme_hook = dict(_base_.scheme_hook, averaging=dict(_delete_=True, type='mmkd.SnapshotModel'),
                   bn_statistics='batch')
