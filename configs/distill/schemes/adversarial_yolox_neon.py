# Adversarial feature distillation (_base_/schemes/adversarial.py) on NEON tree crowns,
# YOLOX-s teacher (neck 128 channels, ~8.9 M params) -> half-width student (64 -> 128
# adapters); the discriminator's input width stated: 128. Teacher and loss balance are the
# pair's (_base_/pairs/yolox_neon.py: measured over 10 iterations, 2 epochs); the
# adversarial term is balanced at a tenth of the imitation term's ratio, the 1 : 0.1
# weights of the synthetic config (the balance would otherwise give both the same share).
_base_ = ['../_base_/pairs/yolox_neon.py', '../_base_/schemes/adversarial.py']

neck_adv = dict(_base_.neck_adv, loss=dict(_base_.neck_adv.loss, discriminator=dict(_base_.discriminator,
                                                                                    in_channels=128)))
custom_hooks = _base_.custom_hooks + [
    dict(_base_.scheme_hook, teacher=_base_.distillation_hook.teacher,
         balance=dict(_base_.distillation_hook.balance, ratios=dict(loss_neck_adv=0.1 * _base_.balance_ratio)),
         distill=[_base_.scheme_hook.distill[0], neck_adv])]
