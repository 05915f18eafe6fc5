# Relation-based distillation (_base_/schemes/relation.py) on NEON tree crowns, YOLOX-s
# teacher (neck 128 channels, ~8.9 M params) -> half-width student (neck 64; 64 -> 128
# adapters). Teacher and loss balance are the pair's (_base_/pairs/yolox_neon.py): each
# term at 0.3 x the detection loss after 10 measured iterations (2 epochs). Nothing depends
# on the schedule.
_base_ = ['../_base_/pairs/yolox_neon.py', '../_base_/schemes/relation.py']

custom_hooks = _base_.custom_hooks + [
    dict(_base_.scheme_hook, teacher=_base_.distillation_hook.teacher, balance=_base_.distillation_hook.balance)]
