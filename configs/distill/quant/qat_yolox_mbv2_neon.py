# INT8 QAT of the MobileNetV2 NEON student (configs/yolox/yolox_student_mbv2_neon.py) without
# distillation: qat_yolox_neon.py with the student's backbone replaced. Its depthwise convolutions
# are quantised like every other conv; its ReLU6s own no parameters and run between quantised
# convolutions. The baseline of qat_crosskd_yolox_mbv2_neon.py.
_base_ = ['./qat_yolox_neon.py', '../../_base_/models/mobilenetv2_yolox.py']

model = dict(detector=dict(backbone=dict(_delete_=True, **_base_.mbv2_backbone),
                           neck=dict(in_channels=_base_.mbv2_channels)))
