# CrossKD, YOLOX teacher (neck 128 channels) -> narrow student (configs/yolox/yolox_student_narrow_neon.py,
# neck 32 channels) on NEON tree crowns, directly: the comparison of the teacher-assistant chain
# (configs/distill/schemes/teacher_assistant_yolox_neon.py). crosskd_yolox_neon.py with the narrow model;
# the cross-head adapters are 1x1 convolutions from 32 to 128 channels.
_base_ = './crosskd_yolox_neon.py'

model = dict(
    backbone=dict(widen_factor=0.125),
    neck=dict(in_channels=[32, 64, 128], out_channels=32),
    bbox_head=dict(in_channels=32, feat_channels=32))
