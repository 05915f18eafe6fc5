# YOLOX-s teacher for the synthetic shapes, on 2 CPU cores.
# 256 train images make 32 iterations an epoch, so the recipe's schedule is
# shortened to 10 epochs (320 iterations: about 6 minutes for the teacher,
# 3 for the student on 2 cores; step times in ../_base_/recipes/yolox_cpu.py).
_base_ = [
    '../_base_/datasets/synthetic_shapes.py', '../_base_/recipes/yolox_cpu.py'
]

model = dict(bbox_head=dict(num_classes=3))

train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='MultiImageMixDataset',
        dataset=dict(
            _base_.train_dataloader.dataset,
            filter_cfg=dict(filter_empty_gt=False, min_size=4),
            pipeline=_base_.yolox_load_pipeline),
        pipeline=_base_.yolox_train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=_base_.yolox_test_pipeline))
test_dataloader = val_dataloader

max_epochs = 10
num_last_epochs = 2
warmup_epochs = 1
val_interval = 5
train_cfg = dict(max_epochs=max_epochs, val_interval=val_interval)
# the recipe's warm-up, cosine and constant phases at the new length
param_scheduler = [
    dict(_base_.param_scheduler[0], end=warmup_epochs),
    dict(
        _base_.param_scheduler[1],
        begin=warmup_epochs,
        T_max=max_epochs - num_last_epochs - warmup_epochs,
        end=max_epochs - num_last_epochs),
    dict(
        _base_.param_scheduler[2],
        begin=max_epochs - num_last_epochs,
        end=max_epochs)
]
default_hooks = dict(checkpoint=dict(interval=val_interval))
custom_hooks = [
    dict(hook, num_last_epochs=num_last_epochs)
    if hook.type == 'YOLOXModeSwitchHook' else hook
    for hook in _base_.custom_hooks
]
