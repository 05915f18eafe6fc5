# GFL student for the NEON tree crowns: the GFL teacher's depth at half its width,
# as the YOLOX student (configs/yolox/yolox_student_neon.py): widen 0.25
# (64/128/256 backbone outputs), 64-channel neck and head (GN with 16 groups).
_base_ = './gfl_s_neon.py'

model = dict(
    backbone=dict(widen_factor=0.25),
    neck=dict(in_channels=[64, 128, 256], out_channels=64),
    bbox_head=dict(in_channels=64, feat_channels=64, norm_cfg=dict(num_groups=16)))
