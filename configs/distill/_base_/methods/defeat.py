# DeFeat (Guo et al., CVPR 2021): decoupled foreground / background neck
# imitation, weights 3 and 12 of the official config averaged over levels -> 1 and 4
# summed over the 3 YOLOX levels.
# See docs/feature_kd.md. Used by configs/distill/defeat_yolox_*.py.
# loss_weight 0.005: the paper's weights above give a distillation loss of 770 at the
# first iteration of the NEON YOLOX pair, against a detection loss of about 13 (YOLOX
# sees raw 0-255 pixels and trains briefly from scratch, so its features are larger than
# in the setting the weights were tuned in); 0.005 brings it to about 3.9, a third of
# the detection loss. Measured with
#   python tools/train.py configs/distill/defeat_yolox_neon.py --cfg-options \
#       train_cfg.max_epochs=1 default_hooks.logger.interval=1
distill = [
    dict(name='neck_defeat', student='neck', teacher='neck', adapter='auto',
         loss=dict(type='mmkd.MaskedFeatureLoss',
                   mask=dict(type='mmkd.DecoupledMask', fg_weight=1.0, bg_weight=4.0),
                   normalize='none', loss_weight=0.005)),
]
