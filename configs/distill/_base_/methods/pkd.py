# PKD (Cao et al., NeurIPS 2022): MSE of per-channel standardised neck features
# (1 - Pearson r), weight 6 per level as in mmrazor's Faster R-CNN config.
# See docs/feature_kd.md. Used by configs/distill/pkd_yolox_*.py.
# The paper's weights as they are. The CPU pairs (NEON, synthetic) set an automatic
# balance instead (_base_/pairs/yolox_neon.py); at COCO scale these weights apply.
distill = [
    dict(name='neck_pkd', student='neck', teacher='neck', adapter='auto',
         loss=dict(type='mmkd.PKDLoss', loss_weight=6.0)),
]
