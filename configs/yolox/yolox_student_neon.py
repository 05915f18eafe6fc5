# YOLOX student for the NEON tree crowns: the teacher's depth at half its
# width (widen 0.25: 64/128/256 backbone outputs, 64-channel neck and head).
_base_ = './yolox_s_neon.py'

model = dict(
    backbone=dict(widen_factor=0.25),
    neck=dict(in_channels=[64, 128, 256], out_channels=64),
    bbox_head=dict(in_channels=64, feat_channels=64))
