# GFL teacher -> GFL student on the synthetic shapes (shared anchors, strides 8-128, reg_max=16).
# What every configs/distill/*_gfl_synth.py shares: the student config, mmkd's
# import and the teacher. A leaf adds its `distill` entries with
#   custom_hooks = _base_.custom_hooks + [dict(_base_.distillation_hook, distill=...)]
# (keeping the student's own hooks, e.g. YOLOX mode switch, SyncNorm, EMA).
_base_ = '../../../gfl/gfl_student_synth.py'

custom_imports = dict(imports=['mmkd'], allow_failed_imports=False)
teacher_config = 'configs/gfl/gfl_teacher_synth.py'
teacher_checkpoint = 'work_dirs/gfl_teacher_synth/teacher.pth'
distillation_hook = dict(
    type='mmkd.DistillationHook',
    teacher=dict(config=teacher_config, checkpoint=teacher_checkpoint))
