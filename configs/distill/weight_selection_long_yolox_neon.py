# Weight selection (weight_selection_yolox_neon.py) on the student trained twice as long
# (configs/yolox/yolox_student_long_neon.py, 80 epochs): the same teacher and selection, then
# the longer schedule (docs/results.md, "A longer student schedule").
_base_ = '../yolox/yolox_student_long_neon.py'

custom_imports = dict(imports=['mmkd'], allow_failed_imports=False)
# the teacher of configs/distill/_base_/pairs/yolox_neon.py
teacher_config = 'configs/yolox/yolox_teacher_neon.py'
teacher_checkpoint = 'work_dirs/yolox_teacher_neon/teacher.pth'
custom_hooks = _base_.custom_hooks + [dict(type='mmkd.WeightSelectionHook', checkpoint=teacher_checkpoint)]
