# GFL teacher for the NEON tree crowns: the students' model (gfl_s_neon.py, the
# YOLOX-s backbone and neck) trained 3.75x longer (150 epochs, 750 iterations) with the
# YOLOX teacher's schedule shape (configs/yolox/yolox_teacher_neon.py: cosine to
# 5% of the LR, constant for the last 15 epochs without mosaic). 150 epochs, not
# the YOLOX teacher's 300, to fit the CPU budget: the YOLOX teacher had passed 0.17
# mAP by epoch 180 of its 300 (benchmarks/results/neon/teacher/seed0.json). Its
# own val curve is in its record (benchmarks/results/neon_gfl/teacher/seed0.json).
_base_ = './gfl_s_neon.py'

max_epochs = 150
num_last_epochs = 15
warmup, cosine, constant = _base_.param_scheduler

train_cfg = dict(max_epochs=max_epochs)
param_scheduler = [
    warmup,
    dict(cosine, T_max=max_epochs - num_last_epochs - warmup.end, end=max_epochs - num_last_epochs),
    dict(constant, begin=max_epochs - num_last_epochs, end=max_epochs),
]
default_hooks = dict(checkpoint=dict(interval=25, max_keep_ckpts=1))
mode_switch, *other_hooks = _base_.custom_hooks
custom_hooks = [dict(mode_switch, num_last_epochs=num_last_epochs), *other_hooks]
