# Snapshot distillation (Yang et al., CVPR 2019) on the synthetic shapes: the
# teacher is the student's own snapshot, refreshed every 64 iterations (two
# epochs of 32 iterations) by mmkd.SnapshotModel, and teaches the student
# through the next cycle. Same mechanics as mean_teacher_yolox_synth.py.
_base_ = './mean_teacher_yolox_synth.py'

custom_hooks = [
    dict(hook, averaging=dict(type='mmkd.SnapshotModel', interval=64))
    if hook.type == 'mmkd.MeanTeacherDistillationHook' else hook
    for hook in _base_.custom_hooks
]
