# Ablation (docs/results.md, "Why FGD lowered the student"): FGD on the NEON pair as it
# shipped before the automatic balance, against the strong teacher: the paper's weights
# times a fixed loss_weight 0.1 (a third of the detection loss at the first iteration),
# distilling from the first iteration, no balance.
_base_ = ['../_base_/pairs/yolox_neon.py', '../_base_/methods/fgd.py']

fixed_fgd = [dict(entry, loss=dict(entry['loss'], loss_weight=0.1)) for entry in _base_.distill]
custom_hooks = _base_.custom_hooks + [dict(_base_.distillation_hook, balance=None, distill=fixed_fgd)]
