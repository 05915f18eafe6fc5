# CWD (Shu et al., ICCV 2021): channel-wise spatial-softmax KL on the neck,
# tau=1 and weight 10 per level as in mmrazor's detection configs.
# See docs/feature_kd.md. Used by configs/distill/cwd_yolox_*.py.
# loss_weight 2 (paper 10): the paper's weights above give a distillation loss of 25 at
# the first iteration of the NEON YOLOX pair, against a detection loss of about 13
# (YOLOX sees raw 0-255 pixels and trains briefly from scratch, so its features are
# larger than in the setting the weights were tuned in); 2 (paper 10) brings it to about
# 4.9, a third of the detection loss. Measured with
#   python tools/train.py configs/distill/cwd_yolox_neon.py --cfg-options \
#       train_cfg.max_epochs=1 default_hooks.logger.interval=1
distill = [
    dict(name='neck_cwd', student='neck', teacher='neck', adapter='auto',
         loss=dict(type='mmkd.CWDLoss', tau=1.0, loss_weight=2.0)),
]
