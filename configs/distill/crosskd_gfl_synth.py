# CrossKD, GFL teacher -> GFL student on the synthetic shapes (shared anchors, reg_max=16).
# The method: _base_/methods/crosskd_gfl.py; the pair: _base_/pairs/gfl_synth.py.
_base_ = ['./_base_/pairs/gfl_synth.py', './_base_/methods/crosskd_gfl.py']

custom_hooks = [dict(_base_.distillation_hook, distill=_base_.distill)]
