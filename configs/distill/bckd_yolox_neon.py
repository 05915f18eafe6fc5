# BCKD, YOLOX teacher (neck 128 channels) -> half-width student (neck 64 channels) on NEON tree crowns.
# The method: _base_/methods/bckd.py; the pair: _base_/pairs/yolox_neon.py.
_base_ = ['./_base_/pairs/yolox_neon.py', './_base_/methods/bckd.py']

custom_hooks = _base_.custom_hooks + [dict(_base_.distillation_hook, distill=_base_.distill)]
