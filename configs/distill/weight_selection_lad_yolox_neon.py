# Weight selection (weight_selection_yolox_neon.py) before label assignment distillation (lad_yolox_neon.py):
# the student starts from the teacher's selected weights, then the teacher assigns its targets. No loss weight.
_base_ = ['./lad_yolox_neon.py']

custom_hooks = _base_.custom_hooks + [dict(type='mmkd.WeightSelectionHook', checkpoint=_base_.teacher_checkpoint)]
