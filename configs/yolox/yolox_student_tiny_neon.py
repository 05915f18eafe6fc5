# YOLOX-tiny student for the NEON tree crowns: mmdet's YOLOX-tiny shape (deepen 0.33, widen
# 0.375: 96/192/384 backbone outputs, 96-channel neck and head, 5.0M parameters) under the
# YOLOX-s teacher (widen 0.5, 8.9M): the two smallest standard-convolution YOLOX models, at 3/4
# of the teacher's width where the default student (yolox_student_neon.py) is at 1/2.
# Everything else is the default student's: the recipe, the 40-epoch schedule, the data
# (docs/results.md, "A student at three quarters of the teacher's width").
_base_ = './yolox_s_neon.py'

model = dict(
    backbone=dict(widen_factor=0.375),
    neck=dict(in_channels=[96, 192, 384], out_channels=96),
    bbox_head=dict(in_channels=96, feat_channels=96))
