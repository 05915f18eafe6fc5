# CrossKD, GFL teacher -> half-width GFL student on NEON tree crowns.
# The method: _base_/methods/crosskd_gfl.py; the pair (and its balance): _base_/pairs/gfl_neon.py.
_base_ = ['./_base_/pairs/gfl_neon.py', './_base_/methods/crosskd_gfl.py']

custom_hooks = _base_.custom_hooks + [dict(_base_.distillation_hook, distill=_base_.distill)]
