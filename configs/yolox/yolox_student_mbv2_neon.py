# Efficient-architecture YOLOX student for the NEON tree crowns (issue 14): mmdet's MobileNetV2
# (depthwise-separable inverted residuals, ReLU6, 32/96/320 channels at strides 8/16/32;
# configs/_base_/models/mobilenetv2_yolox.py) in place of CSPDarknet, under the current
# student's 64-channel PAFPN and YOLOX head (yolox_student_neon.py). Backbone 2.22M parameters
# (CSPDarknet widen 0.25: 1.06M), the whole detector 3.34M (current student 2.24M, teacher 8.94M).
# Taught by the CSPDarknet teacher in configs/distill/{crosskd,fgd}_yolox_mbv2_neon.py.
_base_ = ['./yolox_student_neon.py', '../_base_/models/mobilenetv2_yolox.py']

model = dict(backbone=dict(_delete_=True, **_base_.mbv2_backbone), neck=dict(in_channels=_base_.mbv2_channels))
