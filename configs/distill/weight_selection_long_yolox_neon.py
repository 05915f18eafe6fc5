# Weight selection (weight_selection_yolox_neon.py) on the student trained twice as long
# (configs/yolox/yolox_student_long_neon.py, 80 epochs): the same teacher and selection, then
# the longer schedule (docs/results.md, "A longer student schedule").
_base_ = ['../yolox/yolox_student_long_neon.py', './_base_/teachers/yolox_neon.py']

custom_hooks = _base_.custom_hooks + [dict(type='mmkd.WeightSelectionHook', checkpoint=_base_.teacher_checkpoint)]
