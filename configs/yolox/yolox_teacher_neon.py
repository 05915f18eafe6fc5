# YOLOX-s teacher for the NEON tree crowns: the students' model and data, trained
# 7.5x longer (300 epochs, 1500 iterations) so that its val mAP has levelled off
# before it teaches. At the students' 40 epochs a YOLOX-s from scratch is no
# better than the half-width student (mAP 0.049 against 0.063 on this machine,
# benchmarks/results/neon/teacher/), so it could not show what distillation
# transfers. The teacher is trained once and cached by the benchmark
# (tools/benchmark.py); its val curve is plotted in docs/results.md.
_base_ = './yolox_s_neon.py'

max_epochs = 300
num_last_epochs = 15
warmup_epochs = 2
val_interval = 10
base_lr = 0.02

train_cfg = dict(max_epochs=max_epochs, val_interval=val_interval)
param_scheduler = [
    dict(
        type='mmdet.QuadraticWarmupLR',
        by_epoch=True,
        begin=0,
        end=warmup_epochs,
        convert_to_iter_based=True),
    dict(
        type='CosineAnnealingLR',
        eta_min=base_lr * 0.05,
        begin=warmup_epochs,
        T_max=max_epochs - num_last_epochs - warmup_epochs,
        end=max_epochs - num_last_epochs,
        by_epoch=True,
        convert_to_iter_based=True),
    dict(
        type='ConstantLR',
        by_epoch=True,
        factor=1,
        begin=max_epochs - num_last_epochs,
        end=max_epochs)
]
default_hooks = dict(checkpoint=dict(interval=25, max_keep_ckpts=1))
custom_hooks = [
    dict(
        type='YOLOXModeSwitchHook',
        num_last_epochs=num_last_epochs,
        priority=48),
    dict(type='SyncNormHook', priority=48),
    dict(
        type='EMAHook',
        ema_type='ExpMomentumEMA',
        momentum=0.0001,
        update_buffers=True,
        priority=49)
]
