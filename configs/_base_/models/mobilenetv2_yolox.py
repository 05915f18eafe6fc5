# The efficient-architecture YOLOX student's backbone (issue 14): mmdet's MobileNetV2, inverted
# residual blocks of depthwise-separable convolutions with ReLU6, widen 1.0, its layers 3, 5 and 7
# (out_indices 2, 4, 6): 32/96/320 channels at strides 8/16/32, 2.22M parameters (CSPDarknet at
# widen 0.25: 1.06M). BN momentum and eps as the YOLOX recipe's CSPDarknet; no pretrained weights.
# Variables, not `model` (mmengine refuses the same key in two bases); the student config and its
# distillation leaves apply them in one statement, replacing the recipe's CSPDarknet:
#   model = dict(backbone=dict(_delete_=True, **_base_.mbv2_backbone),
#                neck=dict(in_channels=_base_.mbv2_channels))
# (configs/yolox/yolox_student_mbv2_neon.py, configs/distill/*_yolox_mbv2_neon.py).
mbv2_backbone = dict(
    type='MobileNetV2',
    widen_factor=1.0,
    out_indices=(2, 4, 6),
    norm_cfg=dict(type='BN', momentum=0.03, eps=0.001),
    act_cfg=dict(type='ReLU6'))
mbv2_channels = [32, 96, 320]
