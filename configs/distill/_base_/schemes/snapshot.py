# Snapshot distillation (Yang et al., CVPR 2019): the teacher is the student's own
# snapshot, refreshed every `interval` iterations by mmkd.SnapshotModel, and teaches the
# student through the next cycle. Same mechanics and distillation entries as
# mean_teacher.py (only the averaging differs).
# Cost: one extra frozen copy of the student, one teacher forward a step.
# A leaf sets the cycle (averaging=dict(_base_.scheme_hook.averaging, interval=...)) and
# the warm-up (schedule=dict(warmup_iters=...)). See docs/schemes.md.
# Used by configs/distill/schemes/snapshot_yolox_*.py.
_base_ = './mean_teacher.py'

# _delete_: replace mean_teacher.py's averaging (its momentum does not apply), not merge into it
scheme_hook = dict(_base_.scheme_hook, averaging=dict(_delete_=True, type='mmkd.SnapshotModel'))
