# FGFI (Wang et al., CVPR 2019) for an anchor-free head: neck imitation on the
# locations whose prior lies in a GT box or within 2.5 strides of its centre (the
# SimOTA candidate region), normalised by 2 x the number of such locations.
# See docs/feature_kd.md. Used by configs/distill/fgfi_yolox_*.py.
# loss_weight 0.02: the paper's weights above give a distillation loss of 211 at the
# first iteration of the NEON YOLOX pair, against a detection loss of about 13 (YOLOX
# sees raw 0-255 pixels and trains briefly from scratch, so its features are larger than
# in the setting the weights were tuned in); 0.02 brings it to about 4.2, a third of the
# detection loss. Measured with
#   python tools/train.py configs/distill/fgfi_yolox_neon.py --cfg-options \
#       train_cfg.max_epochs=1 default_hooks.logger.interval=1
distill = [
    dict(name='neck_fgfi', student='neck', teacher='neck', adapter='auto',
         loss=dict(type='mmkd.MaskedFeatureLoss',
                   mask=dict(type='mmkd.PriorInBoxMask', center_radius=2.5),
                   normalize='mask', loss_weight=0.02)),
]
