# BCKD (L. Yang et al., "Bridging Cross-task Protocol Inconsistency for
# Distillation in Dense Object Detection", ICCV 2023): binary classification
# distillation of every class score and IoU-based localisation distillation of
# the decoded boxes. Weights 1.0 and 4.0 from the authors' GFL config
# (configs/bckd/bckd_r50_gflv1_r101_fpn_coco_1x.py in github.com/TinyTigerPan/BCKD:
# loss_kd 1.0, loss_score_kd 4.0); not tuned for YOLOX or these pairs.
# See docs/response_kd.md (BCKD). Used by configs/distill/bckd_*.py.
distill = [
    dict(name='bckd_cls', student='bbox_head', teacher='bbox_head',
         loss=dict(type='mmkd.BCKDClsLoss', beta=1.0, loss_weight=1.0)),
    dict(name='bckd_iou', student='bbox_head', teacher='bbox_head',
         loss=dict(type='mmkd.BCKDIoULoss', iou_mode='iou', loss_weight=4.0)),
]
