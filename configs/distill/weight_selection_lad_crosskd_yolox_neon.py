# Weight selection (weight_selection_yolox_neon.py) before label assignment and cross-head
# distillation (lad_crosskd_yolox_neon.py): the student starts from the teacher's selected
# weights, then the teacher assigns its targets and CrossKD distils its head. No ratio was
# chosen for the combination: each part is as shipped alone.
_base_ = ['./lad_crosskd_yolox_neon.py']

custom_hooks = _base_.custom_hooks + [dict(type='mmkd.WeightSelectionHook', checkpoint=_base_.teacher_checkpoint)]
