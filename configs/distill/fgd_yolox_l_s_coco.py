# FGD distillation, YOLOX-L -> YOLOX-S on COCO 2017 (GPU scale): the entry of
# _base_/methods/fgd.py at the paper's weights (GcBlocks sized by the probe)
# (FGD's official YOLOX weights alpha=2e-3, beta=1e-3, gamma=1e-3, lambda=1e-5, T=0.5).
_base_ = './_base_/pairs/yolox_l_s_coco.py'

custom_hooks = _base_.custom_hooks + [dict(
    _base_.distillation_hook,
    distill=[
        dict(name='neck_fgd', student='neck', teacher='neck', adapter='auto',
             loss=dict(type='mmkd.FGDLoss', alpha_fg=2e-3,
                       beta_bg=1e-3, gamma_at=1e-3, lambda_global=1e-5, temperature=0.5)),
    ])]
