# Weight selection on NEON tree crowns: the half-width student starts from the YOLOX teacher's
# weights at every other channel (mmkd/hooks/weight_selection_hook.py; Xu et al., ICLR 2024),
# then trains as the baseline does. No distillation loss, no teacher forward.
_base_ = ['./_base_/pairs/yolox_neon.py']

custom_hooks = _base_.custom_hooks + [dict(type='mmkd.WeightSelectionHook', checkpoint=_base_.teacher_checkpoint)]
