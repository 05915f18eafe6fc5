# mmdet's FCOS config (centre sampling, norm_on_bbox, centerness on the regression
# branch, GIoU) shrunk for the tests: thin ResNet-18 without pretrained weights,
# three levels, three classes. Data and schedule: tests/utils.py:load_mmdet_config.
_base_ = 'mmdet::fcos/fcos_r50-caffe_fpn_gn-head-center-normbbox-centeronreg-giou_1x_coco.py'

model = dict(
    backbone=dict(depth=18, base_channels=16, out_indices=(1, 2, 3), frozen_stages=-1,
                  norm_cfg=dict(type='BN', requires_grad=True), norm_eval=False, init_cfg=None),
    neck=dict(in_channels=[32, 64, 128], out_channels=32, start_level=0, add_extra_convs=False, num_outs=3),
    bbox_head=dict(num_classes=3, in_channels=32, feat_channels=32, stacked_convs=1, strides=[8, 16, 32],
                   regress_ranges=((-1, 32), (32, 64), (64, 1e8))))
