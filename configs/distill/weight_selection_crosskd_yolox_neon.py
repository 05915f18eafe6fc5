# Weight selection (weight_selection_yolox_neon.py) before CrossKD (crosskd_yolox_neon.py): the student starts
# from the teacher's selected weights, then CrossKD distils its head at CrossKD's ratio, 1.0 x the detection loss,
# also the best of 0.1, 0.3 and 1.0 for the combination on held-out train tiles (seed 0: 0.121, 0.131, 0.155;
# weight selection alone 0.121, with LAD 0.161; `python tools/benchmark.py --set select_initialisation --jobs 2
# --results benchmarks/results_zen4`, docs/results.md "Weight selection on NEON").
_base_ = ['./crosskd_yolox_neon.py']

custom_hooks = _base_.custom_hooks + [dict(type='mmkd.WeightSelectionHook', checkpoint=_base_.teacher_checkpoint)]
