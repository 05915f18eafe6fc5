# Sigmoid-aware response KD (class + objectness, per-prior binary KD weighted
# by the teacher's score) plus box KD toward the teacher's confident boxes.
# See docs/response_kd.md. Used by configs/distill/sigmoid_kd_yolox_*.py.
distill = [
    dict(name='cls_kd', student='bbox_head', teacher='bbox_head',
         loss=dict(type='mmkd.SigmoidKDLoss', temperature=1.0, objectness_weight=1.0,
                   weighting='teacher_score', loss_weight=1.0)),
    dict(name='box_kd', student='bbox_head', teacher='bbox_head',
         loss=dict(type='mmkd.BoxKDLoss', score_thr=0.5, iou_weight=1.0, l1_weight=1.0,
                   loss_weight=2.0)),
]
