# PKD (Cao et al., NeurIPS 2022): MSE of per-channel standardised neck features
# (1 - Pearson r), weight 6 per level as in mmrazor's Faster R-CNN config.
# See docs/feature_kd.md. Used by configs/distill/pkd_yolox_*.py.
# loss_weight 1.5 (paper 6): the paper's weights above give a distillation loss of 18 at
# the first iteration of the NEON YOLOX pair, against a detection loss of about 13
# (YOLOX sees raw 0-255 pixels and trains briefly from scratch, so its features are
# larger than in the setting the weights were tuned in); 1.5 (paper 6) brings it to
# about 4.5, a third of the detection loss. Measured with
#   python tools/train.py configs/distill/pkd_yolox_neon.py --cfg-options \
#       train_cfg.max_epochs=1 default_hooks.logger.interval=1
distill = [
    dict(name='neck_pkd', student='neck', teacher='neck', adapter='auto',
         loss=dict(type='mmkd.PKDLoss', loss_weight=1.5)),
]
