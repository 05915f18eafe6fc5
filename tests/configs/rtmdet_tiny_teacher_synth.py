# Teacher of the RTMDet test pair: twice the student's width.
_base_ = './rtmdet_tiny_synth.py'

model = dict(backbone=dict(widen_factor=0.25), neck=dict(in_channels=[64, 128, 256], out_channels=64),
             bbox_head=dict(in_channels=64, feat_channels=64))
