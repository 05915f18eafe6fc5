# Feature and response KD together, YOLOX teacher -> half-width student on NEON tree crowns:
# FGD on the neck (_base_/methods/fgd.py) and the entry of _base_/methods/sigmoid_kd.py
# on the head's class and objectness scores (two method bases cannot both be inherited:
# each defines `distill`). Under the pair's balance each entry gets the same share of the
# detection loss. The pair: _base_/pairs/yolox_neon.py.
_base_ = ['./_base_/pairs/yolox_neon.py', './_base_/methods/fgd.py']

sigmoid_kd = dict(name='cls_kd', student='bbox_head', teacher='bbox_head',
                  loss=dict(type='mmkd.SigmoidKDLoss', temperature=1.0, score_factor_weight=1.0,
                            weighting='teacher_score', loss_weight=1.0))
custom_hooks = _base_.custom_hooks + [dict(_base_.distillation_hook, distill=_base_.distill + [sigmoid_kd])]
