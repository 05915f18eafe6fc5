# Weight selection with the selected weights scaled by the square root of the fan-in ratio: as
# weight_selection_yolox_neon.py, and each convolution's weights multiplied by k^p, k the ratio of the teacher's
# inputs to the student's (2 on this pair), p = 1/2: a layer's outputs keep the teacher's variance where the inputs
# are uncorrelated, the fan-in rule of He et al. 2015 (WeightSelectionHook.fan_in_power, docs/weight_selection.md).
# No distillation loss, no teacher forward.
_base_ = ['./_base_/pairs/yolox_neon.py']

custom_hooks = _base_.custom_hooks + [
    dict(type='mmkd.WeightSelectionHook', checkpoint=_base_.teacher_checkpoint, fan_in_power=0.5)]
