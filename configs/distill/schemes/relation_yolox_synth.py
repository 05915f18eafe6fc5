# Relation-based distillation (_base_/schemes/relation.py) on the synthetic shapes, YOLOX-s
# teacher (neck 128 channels) -> student (neck 64; 64 -> 128 adapters). The pair's teacher
# (_base_/pairs/yolox_synth.py), not its loss balance: the papers' weights as they are.
_base_ = ['../_base_/pairs/yolox_synth.py', '../_base_/schemes/relation.py']

custom_hooks = _base_.custom_hooks + [dict(_base_.scheme_hook, teacher=_base_.distillation_hook.teacher)]
