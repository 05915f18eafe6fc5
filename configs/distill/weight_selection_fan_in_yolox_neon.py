# Weight selection with the selected weights scaled to the teacher's fan-in: as weight_selection_yolox_neon.py,
# and each convolution's weights multiplied by k^p, k the ratio of the teacher's inputs to the student's (2 on this
# pair), p = 1: a layer's outputs keep the teacher's values where neighbouring inputs are alike
# (WeightSelectionHook.fan_in_power, docs/weight_selection.md). No distillation loss, no teacher forward.
_base_ = ['./_base_/pairs/yolox_neon.py']

custom_hooks = _base_.custom_hooks + [
    dict(type='mmkd.WeightSelectionHook', checkpoint=_base_.teacher_checkpoint, fan_in_power=1.0)]
