# RTMDet teacher (configs/rtmdet/rtmdet_teacher_synth.py) -> RTMDet student
# (rtmdet_student_synth.py) on the synthetic shapes: sigmoid-aware KD of the
# class scores, weighted by the teacher's score, plus box KD toward the
# teacher's confident boxes (decoded from RTMDet's point distances). Both
# heads share the point priors (strides 8, 16, 32). See docs/response_kd.md.
_base_ = './_base_/pairs/rtmdet_synth.py'

custom_hooks = _base_.custom_hooks + [dict(
    _base_.distillation_hook,
    distill=[
        dict(name='cls_kd', student='bbox_head', teacher='bbox_head',
             loss=dict(type='mmkd.SigmoidKDLoss', temperature=1.0, weighting='teacher_score',
                       loss_weight=1.0)),
        dict(name='box_kd', student='bbox_head', teacher='bbox_head',
             loss=dict(type='mmkd.BoxKDLoss', score_thr=0.5, loss_weight=2.0)),
    ])]
