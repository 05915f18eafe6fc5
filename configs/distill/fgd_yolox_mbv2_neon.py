# FGD, YOLOX (CSPDarknet) teacher -> MobileNetV2 student (configs/yolox/yolox_student_mbv2_neon.py)
# on NEON tree crowns: cross-family feature KD on the neck outputs, fgd_yolox_neon.py with the
# student's backbone replaced. The neck is the same 64-channel PAFPN, so its outputs have the
# current student's widths and the adapters are the same; what differs is the backbone features
# feeding it. `python tools/benchmark.py --set architectures --jobs 2`.
_base_ = ['./fgd_yolox_neon.py', '../_base_/models/mobilenetv2_yolox.py']

model = dict(backbone=dict(_delete_=True, **_base_.mbv2_backbone), neck=dict(in_channels=_base_.mbv2_channels))
