# FGD on the backbone stages, YOLOX (CSPDarknet) teacher -> MobileNetV2 student
# (configs/yolox/yolox_student_mbv2_neon.py) on NEON tree crowns: cross-family feature KD where the
# families differ. fgd_yolox_mbv2_neon.py distils the neck, which is the same 64-channel PAFPN in both
# students; here FGD acts on what is not the same, the backbone outputs: MobileNetV2's layers 3/5/7
# (32/96/320 channels) against CSPDarknet's stages 3/4/5 (128/256/512), both at strides 8/16/32. The
# 'auto' adapter is one 1x1 convolution per stage from the student's widths to the teacher's (4,224 +
# 24,832 + 164,352 parameters with bias, dropped after training). FGD's weights and the pair's ratio (0.3) are
# those chosen for FGD on the neck on the held-out tiles, not re-chosen.
# `python tools/benchmark.py --set architectures --datasets neon_mbv2 --jobs 2 --results benchmarks/results_zen4`.
_base_ = ['./_base_/pairs/yolox_neon.py', './_base_/methods/fgd.py', '../_base_/models/mobilenetv2_yolox.py']

model = dict(backbone=dict(_delete_=True, **_base_.mbv2_backbone), neck=dict(in_channels=_base_.mbv2_channels))
custom_hooks = _base_.custom_hooks + [dict(
    _base_.distillation_hook,
    distill=[dict(_base_.distill[0], name='backbone_fgd', student='backbone', teacher='backbone')])]
