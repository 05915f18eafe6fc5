# Decoupled response (DKD) distillation, YOLOX teacher -> half-width student on NEON tree crowns.
# The method: _base_/methods/dkd.py; the pair: _base_/pairs/yolox_neon.py.
_base_ = ['./_base_/pairs/yolox_neon.py', './_base_/methods/dkd.py']

custom_hooks = _base_.custom_hooks + [dict(_base_.distillation_hook, distill=_base_.distill)]
