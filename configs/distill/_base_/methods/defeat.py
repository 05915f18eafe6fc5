# DeFeat (Guo et al., CVPR 2021): decoupled foreground / background neck
# imitation, weights 3 and 12 of the official config averaged over levels -> 1 and 4
# summed over the 3 YOLOX levels.
# See docs/feature_kd.md. Used by configs/distill/defeat_yolox_*.py.
# The paper's weights as they are (loss_weight 1). The CPU pairs (NEON, synthetic) set
# an automatic balance instead (_base_/pairs/yolox_neon.py); at COCO scale these weights apply.
distill = [
    dict(name='neck_defeat', student='neck', teacher='neck', adapter='auto',
         loss=dict(type='mmkd.MaskedFeatureLoss',
                   mask=dict(type='mmkd.DecoupledMask', fg_weight=1.0, bg_weight=4.0),
                   normalize='none', loss_weight=1.0)),
]
