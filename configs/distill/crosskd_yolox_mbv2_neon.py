# CrossKD, YOLOX (CSPDarknet) teacher -> MobileNetV2 student (configs/yolox/yolox_student_mbv2_neon.py)
# on NEON tree crowns: crosskd_yolox_neon.py with the student's backbone replaced. The head is the
# current student's (64 channels), so the cross-head adapters are the same 1x1 convolutions.
# `python tools/benchmark.py --set architectures --jobs 2`.
_base_ = ['./crosskd_yolox_neon.py', '../_base_/models/mobilenetv2_yolox.py']

model = dict(backbone=dict(_delete_=True, **_base_.mbv2_backbone), neck=dict(in_channels=_base_.mbv2_channels))
