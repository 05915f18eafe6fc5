# DeFeat distillation, YOLOX-L -> YOLOX-S on COCO 2017 (GPU scale).
# The method: _base_/methods/defeat.py; the pair: _base_/pairs/yolox_l_s_coco.py.
_base_ = ['./_base_/pairs/yolox_l_s_coco.py', './_base_/methods/defeat.py']

custom_hooks = _base_.custom_hooks + [dict(_base_.distillation_hook, distill=_base_.distill)]
