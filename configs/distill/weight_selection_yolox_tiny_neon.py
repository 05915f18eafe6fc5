# Weight selection (weight_selection_yolox_neon.py) on the YOLOX-tiny student
# (configs/yolox/yolox_student_tiny_neon.py, 3/4 of the teacher's width): it starts from the
# teacher's weights at 3 of every 4 channels, then trains as that student's baseline does
# (docs/results.md, "A student at three quarters of the teacher's width").
_base_ = ['../yolox/yolox_student_tiny_neon.py', './_base_/teachers/yolox_neon.py']

custom_hooks = _base_.custom_hooks + [dict(type='mmkd.WeightSelectionHook', checkpoint=_base_.teacher_checkpoint)]
