# Deep-to-shallow self-distillation (Be Your Own Teacher, Zhang et al. ICCV
# 2019) on the synthetic shapes: the student's neck output (deeper: the
# backbone plus the PAFPN) teaches the backbone levels of the same strides
# through 1x1 adapters (64/128/256 -> 64 channels); the neck side is detached.
# No second model runs. See docs/schemes.md.
_base_ = '../../yolox/yolox_student_synth.py'

custom_imports = dict(imports=['mmkd'], allow_failed_imports=False)
custom_hooks = _base_.custom_hooks + [
    dict(type='mmkd.SelfDistillationHook',
         distill=[
             dict(name='deep_to_shallow', student='backbone', teacher='neck',
                  loss=dict(type='mmkd.FeatureMSELoss', loss_weight=1.0)),
         ],
         schedule=dict(warmup_iters=32)),
]
