# Box KD only: GIoU + stride-normalised L1 toward the teacher's decoded boxes
# on priors the teacher scores above 0.5, weighted by that score.
# See docs/response_kd.md. Used by configs/distill/bbox_kd_yolox_*.py.
distill = [
    dict(name='box_kd', student='bbox_head', teacher='bbox_head',
         loss=dict(type='mmkd.BoxKDLoss', iou_mode='giou', score_thr=0.5, loss_weight=2.0)),
]
