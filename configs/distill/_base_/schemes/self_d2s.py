# Deep-to-shallow self-distillation (Be Your Own Teacher, Zhang et al. ICCV 2019): the
# student's neck output (deeper: the backbone plus the PAFPN) teaches the backbone levels
# of the same strides through 1x1 adapters; the neck side is detached.
# Cost: no second model, no extra forward; one small adapter per level.
# A leaf sets the warm-up (schedule=dict(warmup_iters=...)). See docs/schemes.md.
# Used by configs/distill/schemes/self_d2s_yolox_*.py.
custom_imports = dict(imports=['mmkd'], allow_failed_imports=False)
scheme_hook = dict(
    type='mmkd.SelfDistillationHook',
    distill=[
        dict(name='deep_to_shallow', student='backbone', teacher='neck',
             loss=dict(type='mmkd.FeatureMSELoss', loss_weight=1.0)),
    ])
