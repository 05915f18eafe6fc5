# CrossKD (J. Wang et al., CVPR 2024) for GFL heads, after the authors' GFL config
# (configs/crosskd/crosskd_r18_gflv1_r50_fpn_1x_coco.py in
# github.com/jbwang1997/CrossKD): the teacher head takes over after all but the
# last tower convolution (3 of 4 there, 1 of 2 for the bundled GFL pair), and the
# cross-head predictions get
# - class scores: KDQualityFocalLoss(beta=1, weight 1.0) on every prior,
#   normalised by the positives = mmkd.BCKDClsLoss;
# - edge distributions: KL at T=1 weighted by the teacher's score, weight 3.0 = mmkd.LDLoss;
# - decoded boxes: GIoU weighted by the teacher's score, weight 2.0 = mmkd.BoxKDLoss.
# Not reproduced: the authors' code standardises the student's split features to
# the teacher's per-channel mean and std before the teacher head (an adapter here).
# See docs/response_kd.md (Cross-head KD). Used by configs/distill/crosskd_gfl_synth.py.
cross_head = 1
distill = [
    dict(name='crosskd_cls', student='bbox_head', teacher='bbox_head', cross_head=cross_head,
         loss=dict(type='mmkd.BCKDClsLoss', beta=1.0, loss_weight=1.0)),
    dict(name='crosskd_ld', student='bbox_head', teacher='bbox_head', cross_head=cross_head,
         loss=dict(type='mmkd.LDLoss', temperature=1.0, weighting='teacher_score', vlr_weight=0.0,
                   loss_weight=3.0)),
    dict(name='crosskd_box', student='bbox_head', teacher='bbox_head', cross_head=cross_head,
         loss=dict(type='mmkd.BoxKDLoss', iou_mode='giou', l1_weight=0.0, weighting='teacher_score',
                   score_thr=0.0, loss_weight=2.0)),
]
