# GFL on the NEON tree crowns, 2 CPU cores: the YOLOX-s NEON model and data
# (configs/yolox/yolox_s_neon.py: CSPDarknet + PAFPN, 416 px mosaics, the
# 40-epoch student schedule) with mmdet's GFL head (Li et al., NeurIPS 2020)
# in place of the YOLOX head, so that the second dense head of the benchmark
# differs from the first only in its head. The base of gfl_teacher_neon.py and
# gfl_student_neon.py.
# Head: two 128-channel tower convolutions as the YOLOX-s head; one anchor per
# location at strides 8/16/32 (the PAFPN's levels). Anchor size 4x the stride
# (32-128 px), not mmdet's 8x for P3-P7: the crowns are 15-70 px (5th-95th
# percentile of the train boxes' sqrt(w*h), median 37). Losses, assigner and
# test settings are mmdet's GFL defaults (configs/gfl/gfl_r50_fpn_1x_coco.py),
# except score_thr 0.01, the YOLOX recipe's, so that both heads are evaluated alike.
_base_ = '../yolox/yolox_s_neon.py'

model = dict(
    type='GFL',
    bbox_head=dict(
        _delete_=True,
        type='GFLHead',
        num_classes=1,
        in_channels=128,
        stacked_convs=2,
        feat_channels=128,
        norm_cfg=dict(type='GN', num_groups=32, requires_grad=True),
        anchor_generator=dict(
            type='AnchorGenerator',
            ratios=[1.0],
            octave_base_scale=4,
            scales_per_octave=1,
            strides=[8, 16, 32]),
        loss_cls=dict(type='QualityFocalLoss', use_sigmoid=True, beta=2.0, loss_weight=1.0),
        loss_dfl=dict(type='DistributionFocalLoss', loss_weight=0.25),
        reg_max=16,
        loss_bbox=dict(type='GIoULoss', loss_weight=2.0)),
    train_cfg=dict(
        _delete_=True,
        assigner=dict(type='ATSSAssigner', topk=9),
        allowed_border=-1,
        pos_weight=-1,
        debug=False),
    test_cfg=dict(
        _delete_=True,
        nms_pre=1000,
        min_bbox_size=0,
        score_thr=0.01,
        nms=dict(type='nms', iou_threshold=0.6),
        max_per_img=100))
