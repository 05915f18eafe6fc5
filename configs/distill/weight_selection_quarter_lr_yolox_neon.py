# Weight selection at a quarter of the recipe's learning rate: as weight_selection_yolox_neon.py, with the peak
# rate and the cosine floor both multiplied by 0.25 (the warm-up and the last constant epochs are factors of them
# and follow). The student starts from the teacher's selected weights, not at random, and the recipe's rate was
# tuned for a random start. The factor was chosen on held-out train tiles among 1, 0.5 and 0.25, never on val:
#   python tools/benchmark.py --set select_initialisation --jobs 2 --results benchmarks/results_zen4
# (docs/weight_selection.md). No distillation loss, no teacher forward.
_base_ = ['./weight_selection_yolox_neon.py']

lr_factor = 0.25
optim_wrapper = dict(optimizer=dict(lr=_base_.base_lr * lr_factor))
param_scheduler = [
    dict(scheduler, eta_min=scheduler['eta_min'] * lr_factor) if 'eta_min' in scheduler else scheduler
    for scheduler in _base_.param_scheduler
]
