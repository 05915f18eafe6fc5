# Weight selection (weight_selection_yolox_neon.py) before CrossKD (crosskd_yolox_neon.py): the student starts
# from the teacher's selected weights, then CrossKD distils its head. The balance ratio is chosen for the
# combination on held-out train tiles (`python tools/benchmark.py --set select_initialisation --jobs 2`).
_base_ = ['./crosskd_yolox_neon.py']

custom_hooks = _base_.custom_hooks + [dict(type='mmkd.WeightSelectionHook', checkpoint=_base_.teacher_checkpoint)]
