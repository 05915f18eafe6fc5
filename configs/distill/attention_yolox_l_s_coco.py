# Attention-guided distillation (Zhang & Ma, ICLR 2021), YOLOX-L -> YOLOX-S on
# COCO 2017 (GPU scale): the entries of _base_/methods/attention.py with the
# paper's weights (the non-local blocks take the YOLOX-L neck's channels from the probe).
_base_ = './_base_/pairs/yolox_l_s_coco.py'

custom_hooks = _base_.custom_hooks + [dict(
    _base_.distillation_hook,
    distill=[
        dict(name='neck_attention', student='neck', teacher='neck', adapter='auto',
             loss=dict(type='mmkd.AttentionGuidedLoss', alpha_at=4e-4, beta_am=2e-2, temperature=0.5)),
        *[dict(name=f'neck_nonlocal_{level}', student=f'neck[{level}]', teacher=f'neck[{level}]',
               adapter='auto', loss=dict(type='mmkd.NonLocalDistillLoss', gamma=4e-4,
                                         sub_sample=True)) for level in (1, 2)],
    ])]
