# FGFI (Wang et al., CVPR 2019) for an anchor-free head: neck imitation on the
# locations whose prior lies in a GT box or within 2.5 strides of its centre (the
# SimOTA candidate region), normalised by 2 x the number of such locations.
# See docs/feature_kd.md. Used by configs/distill/fgfi_yolox_*.py.
# The paper's weights as they are (loss_weight 1). The CPU pairs (NEON, synthetic) set
# an automatic balance instead (_base_/pairs/yolox_neon.py); at COCO scale these weights apply.
distill = [
    dict(name='neck_fgfi', student='neck', teacher='neck', adapter='auto',
         loss=dict(type='mmkd.MaskedFeatureLoss',
                   mask=dict(type='mmkd.PriorInBoxMask', center_radius=2.5),
                   normalize='mask', loss_weight=1.0)),
]
