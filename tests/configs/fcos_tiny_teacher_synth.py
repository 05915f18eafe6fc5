# Teacher of the FCOS test pair: twice the student's width.
_base_ = './fcos_tiny_synth.py'

model = dict(backbone=dict(base_channels=32), neck=dict(in_channels=[64, 128, 256], out_channels=64),
             bbox_head=dict(in_channels=64, feat_channels=64))
