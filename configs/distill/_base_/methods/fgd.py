# FGD (Yang et al., CVPR 2022): focal (scale-aware fg/bg, teacher attention)
# and global (GcBlock relation) distillation on the neck, with the official YOLOX
# weights alpha=2e-3, beta=1e-3, gamma=1e-3, lambda=1e-5, T=0.5.
# See docs/feature_kd.md. Used by configs/distill/fgd_yolox_*.py.
# loss_weight 0.1: the paper's weights above give a distillation loss of 48 at the first
# iteration of the NEON YOLOX pair, against a detection loss of about 13 (YOLOX sees raw
# 0-255 pixels and trains briefly from scratch, so its features are larger than in the
# setting the weights were tuned in); 0.1 brings it to about 4.8, a third of the
# detection loss. Measured with
#   python tools/train.py configs/distill/fgd_yolox_neon.py --cfg-options \
#       train_cfg.max_epochs=1 default_hooks.logger.interval=1
distill = [
    dict(name='neck_fgd', student='neck', teacher='neck', adapter='auto',
         loss=dict(type='mmkd.FGDLoss', alpha_fg=2e-3,
                   beta_bg=1e-3, gamma_at=1e-3, lambda_global=1e-5, temperature=0.5,
                   loss_weight=0.1)),
]
