# FGD (Yang et al., CVPR 2022): focal (scale-aware fg/bg, teacher attention)
# and global (GcBlock relation) distillation on the neck, with the official YOLOX
# weights alpha=2e-3, beta=1e-3, gamma=1e-3, lambda=1e-5, T=0.5.
# See docs/feature_kd.md. Used by configs/distill/fgd_yolox_*.py.
# The paper's weights as they are (loss_weight 1). The CPU pairs (NEON, synthetic) set
# an automatic balance instead (_base_/pairs/yolox_neon.py); at COCO scale these weights apply.
distill = [
    dict(name='neck_fgd', student='neck', teacher='neck', adapter='auto',
         loss=dict(type='mmkd.FGDLoss', alpha_fg=2e-3,
                   beta_bg=1e-3, gamma_at=1e-3, lambda_global=1e-5, temperature=0.5,
                   loss_weight=1.0)),
]
