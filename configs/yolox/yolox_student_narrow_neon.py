# Narrow YOLOX student for the NEON tree crowns (issue 14, teacher assistant): the teacher's depth at a
# quarter of its width (widen 0.125: 32/64/128 backbone outputs, 32-channel neck and head), 0.56M
# parameters against the teacher's 8.9M. The current student (yolox_student_neon.py, widen 0.25) is its
# assistant in configs/distill/schemes/teacher_assistant_yolox_neon.py.
_base_ = './yolox_s_neon.py'

model = dict(
    backbone=dict(widen_factor=0.125),
    neck=dict(in_channels=[32, 64, 128], out_channels=32),
    bbox_head=dict(in_channels=32, feat_channels=32))
