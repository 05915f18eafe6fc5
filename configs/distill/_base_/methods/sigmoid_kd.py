# Sigmoid-aware response KD: class scores and YOLOX objectness (the score factor), per-prior binary KD
# weighted by the teacher's score. No box term: on NEON, adding BoxKD (as an
# earlier version of this file did) dropped the student from mAP 0.089 to
# 0.005 (docs/results.md, "Response KD ablation").
# See docs/response_kd.md. Used by configs/distill/sigmoid_kd_yolox_*.py.
distill = [
    dict(name='cls_kd', student='bbox_head', teacher='bbox_head',
         loss=dict(type='mmkd.SigmoidKDLoss', temperature=1.0, score_factor_weight=1.0,
                   weighting='teacher_score', loss_weight=1.0)),
]
