# CWD (Shu et al., ICCV 2021): channel-wise spatial-softmax KL on the neck,
# tau=1 and weight 10 per level as in mmrazor's detection configs.
# See docs/feature_kd.md. Used by configs/distill/cwd_yolox_*.py.
# The paper's weights as they are. The CPU pairs (NEON, synthetic) set an automatic
# balance instead (_base_/pairs/yolox_neon.py); at COCO scale these weights apply.
distill = [
    dict(name='neck_cwd', student='neck', teacher='neck', adapter='auto',
         loss=dict(type='mmkd.CWDLoss', tau=1.0, loss_weight=10.0)),
]
