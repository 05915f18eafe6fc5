# Feature and response KD together, YOLOX teacher -> half-width student on NEON tree crowns:
# FGD on the neck (_base_/methods/fgd.py) and the entry of _base_/methods/sigmoid_kd.py
# on the head's class and objectness scores (two method bases cannot both be inherited:
# each defines `distill`). Under the balance each entry gets its own share of the
# detection loss: FGD the pair's 0.3, sigmoid KD 1.0, each as chosen for it alone on the
# held-out train tiles (docs/results.md, "Choosing the ratio"). The pair: _base_/pairs/yolox_neon.py.
_base_ = ['./_base_/pairs/yolox_neon.py', './_base_/methods/fgd.py']

sigmoid_kd = dict(name='cls_kd', student='bbox_head', teacher='bbox_head',
                  loss=dict(type='mmkd.SigmoidKDLoss', temperature=1.0, score_factor_weight=1.0,
                            weighting='teacher_score', loss_weight=1.0))
custom_hooks = _base_.custom_hooks + [
    dict(_base_.distillation_hook, balance=dict(_base_.distillation_hook.balance, ratios=dict(loss_cls_kd=1.0)),
         distill=_base_.distill + [sigmoid_kd])]
