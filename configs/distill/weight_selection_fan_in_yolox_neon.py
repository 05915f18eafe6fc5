# Weight selection with the selected weights scaled to the teacher's fan-in: as weight_selection_yolox_neon.py,
# and each convolution's weights multiplied by the ratio of the teacher's inputs to the student's (2 on this
# pair), so every layer's outputs start at the teacher's scale (WeightSelectionHook.scale_fan_in,
# docs/weight_selection.md). No distillation loss, no teacher forward.
_base_ = ['./_base_/pairs/yolox_neon.py']

custom_hooks = _base_.custom_hooks + [
    dict(type='mmkd.WeightSelectionHook', checkpoint=_base_.teacher_checkpoint, scale_fan_in=True)]
