# Label assignment distillation and CrossKD together on NEON tree crowns: the teacher's predictions choose
# the student's SimOTA targets (lad_yolox_neon.py) and CrossKD's cross-head terms distil its head
# (crosskd_yolox_neon.py, balanced at 1.0 x the detection loss as chosen there on held-out train tiles).
# The two hooks each run the teacher: two teacher forwards per step.
_base_ = ['./crosskd_yolox_neon.py']

custom_hooks = _base_.custom_hooks + [
    dict(type='mmkd.TeacherAssignmentHook',
         teacher=dict(config=_base_.teacher_config, checkpoint=_base_.teacher_checkpoint))]
