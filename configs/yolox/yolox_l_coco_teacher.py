# YOLOX-L teacher on COCO 2017 for GPU users: mmdet's config unchanged.
# Trained weights (49.4 box AP) from mmdet's model zoo:
# https://download.openmmlab.com/mmdetection/v2.0/yolox/yolox_l_8x8_300e_coco/yolox_l_8x8_300e_coco_20211126_140236-d3bd2b23.pth  # noqa
# COCO is expected under data/coco/ (train2017/, val2017/ and
# annotations/instances_{train,val}2017.json).
_base_ = 'mmdet::yolox/yolox_l_8xb8-300e_coco.py'
