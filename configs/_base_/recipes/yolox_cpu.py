# mmdet's YOLOX-s recipe (configs/yolox/yolox_s_8xb8-300e_coco.py) cut down to
# train in minutes on 2 CPU cores: 416 px mosaics, batches resized to 320-416
# px, no MixUp (as mmdet's yolox_tiny/nano), a short epoch-based schedule.
# Kept: BatchSyncRandomResize, YOLOXModeSwitchHook, SyncNormHook, EMAHook.
#
# Not a full config: a leaf inherits it together with a dataset base and wraps
# the dataset base's train set in MultiImageMixDataset with the pipelines
# below (see configs/yolox/yolox_s_neon.py).
_base_ = ['mmdet::_base_/default_runtime.py']

yolox_img_scale = (416, 416)  # width, height

# YOLOX-s; leaves set num_classes and the student's width
model = dict(
    type='YOLOX',
    data_preprocessor=dict(
        type='DetDataPreprocessor',
        pad_size_divisor=32,
        batch_augments=[
            dict(
                type='BatchSyncRandomResize',
                random_size_range=(320, 416),
                size_divisor=32,
                interval=10)
        ]),
    backbone=dict(
        type='CSPDarknet',
        deepen_factor=0.33,
        widen_factor=0.5,
        out_indices=(2, 3, 4),
        use_depthwise=False,
        spp_kernal_sizes=(5, 9, 13),
        norm_cfg=dict(type='BN', momentum=0.03, eps=0.001),
        act_cfg=dict(type='Swish'),
        init_cfg=None),
    neck=dict(
        type='YOLOXPAFPN',
        in_channels=[128, 256, 512],
        out_channels=128,
        num_csp_blocks=1,
        use_depthwise=False,
        upsample_cfg=dict(scale_factor=2, mode='nearest'),
        norm_cfg=dict(type='BN', momentum=0.03, eps=0.001),
        act_cfg=dict(type='Swish')),
    bbox_head=dict(
        type='YOLOXHead',
        num_classes=80,
        in_channels=128,
        feat_channels=128,
        stacked_convs=2,
        strides=(8, 16, 32),
        use_depthwise=False,
        norm_cfg=dict(type='BN', momentum=0.03, eps=0.001),
        act_cfg=dict(type='Swish'),
        loss_cls=dict(
            type='CrossEntropyLoss',
            use_sigmoid=True,
            reduction='sum',
            loss_weight=1.0),
        loss_bbox=dict(
            type='IoULoss',
            mode='square',
            eps=1e-16,
            reduction='sum',
            loss_weight=5.0),
        loss_obj=dict(
            type='CrossEntropyLoss',
            use_sigmoid=True,
            reduction='sum',
            loss_weight=1.0),
        loss_l1=dict(type='L1Loss', reduction='sum', loss_weight=1.0)),
    train_cfg=dict(assigner=dict(type='SimOTAAssigner', center_radius=2.5)),
    test_cfg=dict(score_thr=0.01, nms=dict(type='nms', iou_threshold=0.65)))

# the inner dataset of MultiImageMixDataset only loads
yolox_load_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True)
]
yolox_train_pipeline = [
    dict(type='Mosaic', img_scale=yolox_img_scale, pad_val=114.0),
    dict(
        type='RandomAffine',
        scaling_ratio_range=(0.5, 1.5),
        border=(-yolox_img_scale[0] // 2, -yolox_img_scale[1] // 2)),
    dict(type='YOLOXHSVRandomAug'),
    dict(type='RandomFlip', prob=0.5),
    # Resize and Pad serve the last epochs, when YOLOXModeSwitchHook turns
    # Mosaic and RandomAffine off
    dict(type='Resize', scale=yolox_img_scale, keep_ratio=True),
    dict(
        type='Pad',
        pad_to_square=True,
        pad_val=dict(img=(114.0, 114.0, 114.0))),
    dict(type='FilterAnnotations', min_gt_bbox_wh=(1, 1), keep_empty=False),
    dict(type='PackDetInputs')
]
yolox_test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=yolox_img_scale, keep_ratio=True),
    dict(
        type='Pad',
        pad_to_square=True,
        pad_val=dict(img=(114.0, 114.0, 114.0))),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(
        type='PackDetInputs',
        meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape',
                   'scale_factor'))
]

# Schedule: quadratic warm-up, cosine, constant LR for the last epochs.
# Measured on 2 idle CPU cores (torch 2.13 CPU), batch 8, inputs 320-416 px:
#   teacher (YOLOX-s, 8.9M params): 0.8-1.4 s/iter (1.1 mean), val of the
#     17 NEON tiles ~1-2 s
#   student (widen 0.25, 2.2M):     0.43-0.55 s/iter, val ~0.5 s
#   start-up of a run (imports, build): 10-15 s
# NEON has 39 train tiles = 5 iterations an epoch; 40 epochs (200 iters,
# 4 evals) took 4 min 08 s for the teacher (bbox mAP 0.058, mAP_50 0.239 on
# the val tiles) and 2 min 08 s for the student (mAP 0.050, mAP_50 0.222).
# A distilled student (student step + teacher forward: 0.72-1.1 s/iter with
# mmkd.DistillationHook and one neck MSE entry) takes about 3-3.5 min, so
# teacher + student + distilled student with their COCO evals fit in about
# 10-11 minutes.
max_epochs = 40
num_last_epochs = 5
warmup_epochs = 2
val_interval = 10
# twice mmdet's 0.01 (for 8 GPUs x 8 images) at batch 8: after 40 epochs the
# teacher reached mAP 0.062 with 0.02 and 0.044 with 0.01
base_lr = 0.02

train_cfg = dict(
    type='EpochBasedTrainLoop', max_epochs=max_epochs,
    val_interval=val_interval)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

# Gradient clipping (max norm 35, as in mmdet's RTMDet/RetinaNet recipes): at
# lr 0.02 without it the NEON teacher's seed-0 run blew up to NaN in epoch 12.
optim_wrapper = dict(
    type='OptimWrapper',
    clip_grad=dict(max_norm=35, norm_type=2),
    optimizer=dict(
        type='SGD', lr=base_lr, momentum=0.9, weight_decay=5e-4,
        nesterov=True),
    paramwise_cfg=dict(norm_decay_mult=0., bias_decay_mult=0.))
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

default_hooks = dict(
    logger=dict(type='LoggerHook', interval=5),
    checkpoint=dict(
        type='CheckpointHook', interval=val_interval, max_keep_ckpts=2))
log_processor = dict(window_size=5)
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
# --auto-scale-lr scales base_lr by (total batch) / 8
auto_scale_lr = dict(enable=False, base_batch_size=8)
# the same sampling and augmentation for student and distilled student runs
randomness = dict(seed=0)
