# A YOLOX small enough for CPU tests (96 px, tiny widths) that keeps mmdet's
# whole YOLOX recipe: Mosaic/RandomAffine pipeline, BatchSyncRandomResize,
# YOLOXModeSwitchHook, SyncNormHook and EMAHook.
_base_ = 'mmdet::yolox/yolox_s_8xb8-300e_coco.py'

img_scale = (96, 96)
widen_factor = 0.125
data_root = 'data/synthetic_shapes/'
classes = ('circle', 'square', 'triangle')

# BN running statistics follow the batches quickly: a test teacher is trained
# for a few iterations only and then runs in eval mode.
norm_cfg = dict(type='BN', momentum=0.3, eps=0.001)
model = dict(
    data_preprocessor=dict(batch_augments=[
        dict(type='BatchSyncRandomResize', random_size_range=(64, 128), size_divisor=32, interval=1)
    ]),
    backbone=dict(deepen_factor=0.33, widen_factor=widen_factor, norm_cfg=norm_cfg),
    neck=dict(in_channels=[32, 64, 128], out_channels=32, num_csp_blocks=1, norm_cfg=norm_cfg),
    bbox_head=dict(num_classes=3, in_channels=32, feat_channels=32, norm_cfg=norm_cfg),
    test_cfg=dict(score_thr=0.01, nms=dict(type='nms', iou_threshold=0.65)))

train_pipeline = [
    dict(type='Mosaic', img_scale=img_scale, pad_val=114.0),
    dict(type='RandomAffine', scaling_ratio_range=(0.5, 1.5), border=(-img_scale[0] // 2, -img_scale[1] // 2)),
    dict(type='YOLOXHSVRandomAug'),
    dict(type='RandomFlip', prob=0.5),
    dict(type='Resize', scale=img_scale, keep_ratio=True),
    dict(type='Pad', pad_to_square=True, pad_val=dict(img=(114.0, 114.0, 114.0))),
    dict(type='FilterAnnotations', min_gt_bbox_wh=(1, 1), keep_empty=False),
    dict(type='PackDetInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=img_scale, keep_ratio=True),
    dict(type='Pad', pad_to_square=True, pad_val=dict(img=(114.0, 114.0, 114.0))),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='PackDetInputs', meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor'))
]
train_dataloader = dict(
    batch_size=4, num_workers=0, persistent_workers=False,
    dataset=dict(
        type='MultiImageMixDataset',
        dataset=dict(data_root=data_root, ann_file='annotations/train.json', data_prefix=dict(img='images/'),
                     metainfo=dict(classes=classes), filter_cfg=dict(filter_empty_gt=False)),
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=4, num_workers=0, persistent_workers=False,
    dataset=dict(data_root=data_root, ann_file='annotations/val.json', data_prefix=dict(img='images/'),
                 metainfo=dict(classes=classes), pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(ann_file=data_root + 'annotations/val.json')
test_evaluator = val_evaluator

max_epochs = 3
num_last_epochs = 1
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
param_scheduler = [
    dict(type='mmdet.QuadraticWarmupLR', by_epoch=True, begin=0, end=1, convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', eta_min=0.0005, begin=1, T_max=max_epochs - num_last_epochs,
         end=max_epochs - num_last_epochs, by_epoch=True, convert_to_iter_based=True),
    dict(type='ConstantLR', by_epoch=True, factor=1, begin=max_epochs - num_last_epochs, end=max_epochs),
]
default_hooks = dict(
    checkpoint=dict(interval=1, max_keep_ckpts=3),
    logger=dict(type='LoggerHook', interval=1))
custom_hooks = [
    dict(type='YOLOXModeSwitchHook', num_last_epochs=num_last_epochs, priority=48),
    dict(type='SyncNormHook', priority=48),
    dict(type='EMAHook', ema_type='ExpMomentumEMA', momentum=0.0001, update_buffers=True, priority=49)
]
auto_scale_lr = dict(enable=False, base_batch_size=64)
randomness = dict(seed=0)
