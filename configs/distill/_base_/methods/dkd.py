# Decoupled KD (Zhao et al., CVPR 2022) on the class logits with a zero
# background logit appended (target class from the assigned GT on positives,
# the teacher's argmax elsewhere; with one class, as on NEON, DKD is binary KD
# of object vs background and NCKD vanishes), and YOLOX objectness (the score factor) by sigmoid
# KD. No box term (see _base_/methods/sigmoid_kd.py and docs/results.md).
# See docs/response_kd.md. Used by configs/distill/dkd_yolox_*.py.
distill = [
    dict(name='cls_dkd', student='bbox_head', teacher='bbox_head',
         loss=dict(type='mmkd.DKDLoss', alpha=1.0, beta=8.0, temperature=4.0, target='gt',
                   with_background=True, weighting='teacher_score', loss_weight=0.5)),
    dict(name='obj_kd', student='bbox_head', teacher='bbox_head',
         loss=dict(type='mmkd.SigmoidKDLoss', class_weight=0.0, score_factor_weight=1.0,
                   weighting='all', loss_weight=1.0)),
]
