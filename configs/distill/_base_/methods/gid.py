# GID (Dai et al., CVPR 2021): neck imitation on the regions of the general
# instances (per image: max class-score discrepancy, box of the more confident
# model, NMS IoU 0.3, top 10), read from both bbox_heads.
# See docs/feature_kd.md. Used by configs/distill/gid_yolox_*.py.
# The paper's weights as they are (loss_weight 1). The CPU pairs (NEON, synthetic) set
# an automatic balance instead (_base_/pairs/yolox_neon.py); at COCO scale these weights apply.
distill = [
    dict(name='neck_gid', student='neck', teacher='neck', adapter='auto',
         loss=dict(type='mmkd.MaskedFeatureLoss',
                   mask=dict(type='mmkd.GIDMask', iou_threshold=0.3, topk=10),
                   normalize='mask', loss_weight=1.0)),
]
