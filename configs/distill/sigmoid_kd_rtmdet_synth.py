# RTMDet teacher (configs/rtmdet/rtmdet_teacher_synth.py) -> RTMDet student
# (rtmdet_student_synth.py) on the synthetic shapes: sigmoid-aware KD of the
# class scores, weighted by the teacher's score, plus box KD toward the
# teacher's confident boxes (decoded from RTMDet's point distances). Both
# heads share the point priors (strides 8, 16, 32). See docs/response_kd.md.
_base_ = '../rtmdet/rtmdet_student_synth.py'

custom_imports = dict(imports=['mmkd'], allow_failed_imports=False)
teacher_config = 'configs/rtmdet/rtmdet_teacher_synth.py'
teacher_checkpoint = 'work_dirs/rtmdet_teacher_synth/teacher.pth'
# keep the student's own hooks (EMA, pipeline switch) and append mmkd's
custom_hooks = _base_.custom_hooks + [
    dict(type='mmkd.DistillationHook',
         teacher=dict(config=teacher_config, checkpoint=teacher_checkpoint),
         distill=[
             dict(name='cls_kd', student='bbox_head', teacher='bbox_head',
                  loss=dict(type='mmkd.SigmoidKDLoss', temperature=1.0, weighting='teacher_score',
                            loss_weight=1.0)),
             dict(name='box_kd', student='bbox_head', teacher='bbox_head',
                  loss=dict(type='mmkd.BoxKDLoss', score_thr=0.5, loss_weight=2.0)),
         ]),
]
