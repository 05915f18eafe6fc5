# Adversarial feature distillation (_base_/schemes/adversarial.py) on the synthetic shapes,
# YOLOX-s teacher (neck 128 channels) -> student (64 -> 128 adapters). The pair's teacher
# (_base_/pairs/yolox_synth.py), not its loss balance: the 1 : 0.1 weights as they are.
_base_ = ['../_base_/pairs/yolox_synth.py', '../_base_/schemes/adversarial.py']

custom_hooks = _base_.custom_hooks + [dict(_base_.scheme_hook, teacher=_base_.distillation_hook.teacher)]
