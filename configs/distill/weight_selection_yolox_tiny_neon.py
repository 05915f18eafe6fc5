# Weight selection (weight_selection_yolox_neon.py) on the YOLOX-tiny student
# (configs/yolox/yolox_student_tiny_neon.py, 3/4 of the teacher's width): it starts from the
# teacher's weights at 3 of every 4 channels, then trains as that student's baseline does
# (docs/results.md, "A student at three quarters of the teacher's width").
_base_ = '../yolox/yolox_student_tiny_neon.py'

custom_imports = dict(imports=['mmkd'], allow_failed_imports=False)
# the teacher of configs/distill/_base_/pairs/yolox_neon.py
teacher_config = 'configs/yolox/yolox_teacher_neon.py'
teacher_checkpoint = 'work_dirs/yolox_teacher_neon/teacher.pth'
custom_hooks = _base_.custom_hooks + [dict(type='mmkd.WeightSelectionHook', checkpoint=teacher_checkpoint)]
