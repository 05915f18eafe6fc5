# GFL teacher (configs/gfl/gfl_teacher_synth.py) -> GFL student
# (gfl_student_synth.py) on the synthetic shapes: Localization Distillation
# (Zheng et al., CVPR 2022) of the per-edge box distributions, T=10, on the
# GT-centre positives plus the valuable localization region, with sigmoid KD
# of the class scores (GFL classes are sigmoid QFL scores). Both heads share
# the anchors (strides 8-128) and reg_max=16. See docs/response_kd.md.
_base_ = './_base_/pairs/gfl_synth.py'

custom_hooks = [dict(
    _base_.distillation_hook,
    distill=[
        dict(name='ld', student='bbox_head', teacher='bbox_head',
             loss=dict(type='mmkd.LDLoss', temperature=10.0, weighting='positive',
                       vlr_weight=1.0, vlr_thr=0.125, loss_weight=0.25)),
        dict(name='cls_kd', student='bbox_head', teacher='bbox_head',
             loss=dict(type='mmkd.SigmoidKDLoss', temperature=1.0, weighting='teacher_score',
                       loss_weight=1.0)),
    ])]
