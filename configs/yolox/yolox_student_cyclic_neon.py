# The NEON student (yolox_student_neon.py) under a cyclic learning rate: 5 cosine cycles of
# 8 epochs (40 iterations), every one starting at base_lr and ending at 0.05 x base_lr; the
# first cycle holds the recipe's 2-epoch warm-up. Snapshot distillation's paper ends each
# cycle at a converged snapshot; this is the baseline of
# configs/distill/schemes/snapshot_cyclic_yolox_neon.py (docs/results.md, "Snapshot
# distillation: why it ran away, and what is left").
_base_ = './yolox_student_neon.py'

cycle_epochs = 8
num_cycles = _base_.max_epochs // cycle_epochs
# CosineRestartLR counts its periods from `begin`: the first one is shortened by the warm-up
param_scheduler = [
    _base_.param_scheduler[0],
    dict(type='CosineRestartLR', periods=[cycle_epochs - _base_.warmup_epochs] + [cycle_epochs] * (num_cycles - 1),
         restart_weights=[1.0] * num_cycles, eta_min=_base_.base_lr * 0.05,
         begin=_base_.warmup_epochs, end=_base_.max_epochs, by_epoch=True, convert_to_iter_based=True)]
