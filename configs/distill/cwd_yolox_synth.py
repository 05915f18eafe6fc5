# CWD distillation, YOLOX teacher -> half-width student on the synthetic shapes.
# The method: _base_/methods/cwd.py; the pair: _base_/pairs/yolox_synth.py.
_base_ = ['./_base_/pairs/yolox_synth.py', './_base_/methods/cwd.py']

custom_hooks = _base_.custom_hooks + [dict(_base_.distillation_hook, distill=_base_.distill)]
