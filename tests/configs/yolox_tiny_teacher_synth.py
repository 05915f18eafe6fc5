# Teacher of the test pair: twice the student's width.
_base_ = './yolox_tiny_synth.py'

model = dict(
    backbone=dict(widen_factor=0.25),
    neck=dict(in_channels=[64, 128, 256], out_channels=64),
    bbox_head=dict(in_channels=64, feat_channels=64))


# The test teacher trains for a handful of iterations only, so its eval-mode
# BN statistics must describe its final weights on images like those it is
# later run on: a small learning rate (YOLOX's 0.01 quadruples the weights in
# a few steps from scratch, leaving the running statistics behind), no EMA
# (mmdet's YOLOX EMA barely leaves the initial weights in a few steps, and it
# is what the checkpoint saves), no Mosaic/RandomAffine canvases, one size.
optim_wrapper = dict(optimizer=dict(lr=1e-4))
custom_hooks = [hook for hook in _base_.custom_hooks if hook['type'] != 'EMAHook']
model.update(data_preprocessor=dict(batch_augments=None))
train_dataloader = dict(dataset=dict(pipeline=[
    dict(type='Resize', scale=_base_.img_scale, keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='Pad', pad_to_square=True, pad_val=dict(img=(114.0, 114.0, 114.0))),
    dict(type='PackDetInputs')
]))
