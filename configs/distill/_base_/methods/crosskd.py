# CrossKD (J. Wang et al., "CrossKD: Cross-Head Knowledge Distillation for Object
# Detection", CVPR 2024) for YOLOX heads (2 convolutions per tower). Every entry
# has cross_head=1: the student's tower features after its first convolution go
# through the frozen teacher's second convolution and predictors (1x1 adapters
# where the widths differ), and those cross-head predictions mimic the teacher's
# own. CrossKD splits GFL's 4-conv towers after 3 (reused_teacher_head_idx=3 in
# the authors' configs, github.com/jbwang1997/CrossKD); 1 of 2 is the analogue
# here, not a value from the paper.
# - class scores (+ objectness): CrossKD's KDQualityFocalLoss(beta=1, weight 1.0)
#   on every prior, normalised by the positives = mmkd.BCKDClsLoss;
# - boxes: GIoU of the decoded boxes weighted by the teacher's score,
#   normalised by the total weight, weight 2.0 (the authors' GFL config; not
#   verified for YOLOX). No L1 term.
# See docs/response_kd.md (Cross-head KD). Used by configs/distill/crosskd_yolox_*.py.
cross_head = 1
distill = [
    dict(name='crosskd_cls', student='bbox_head', teacher='bbox_head', cross_head=cross_head,
         loss=dict(type='mmkd.BCKDClsLoss', beta=1.0, loss_weight=1.0)),
    dict(name='crosskd_box', student='bbox_head', teacher='bbox_head', cross_head=cross_head,
         loss=dict(type='mmkd.BoxKDLoss', iou_mode='giou', l1_weight=0.0, weighting='teacher_score',
                   score_thr=0.0, loss_weight=2.0)),
]
