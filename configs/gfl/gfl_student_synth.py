# GFL student for the synthetic shapes: the teacher's ResNet-18 at half its
# width again (base_channels=16) with a 32-channel FPN and head.
_base_ = './gfl_teacher_synth.py'

backbone_channels = 16
model = dict(
    backbone=dict(base_channels=backbone_channels),
    neck=dict(
        in_channels=[backbone_channels * 2**i for i in range(4)],
        out_channels=32),
    bbox_head=dict(in_channels=32, feat_channels=32))
