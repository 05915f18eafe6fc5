# YOLOX teacher (configs/yolox/yolox_teacher_neon.py) -> half-width
# student (yolox_student_neon.py) on NEON tree crowns: Decoupled KD on the
# class logits with a zero background logit appended (one class, so DKD is
# binary KD of tree vs background: NCKD vanishes), YOLOX objectness by
# sigmoid KD, and box KD. See docs/response_kd.md.
_base_ = '../yolox/yolox_student_neon.py'

custom_imports = dict(imports=['mmkd'], allow_failed_imports=False)
teacher_config = 'configs/yolox/yolox_teacher_neon.py'
teacher_checkpoint = 'work_dirs/yolox_teacher_neon/teacher.pth'
# keep the student's own hooks (YOLOX mode switch, SyncNorm, EMA) and append mmkd's
custom_hooks = _base_.custom_hooks + [
    dict(type='mmkd.DistillationHook',
         teacher=dict(config=teacher_config, checkpoint=teacher_checkpoint),
         distill=[
             dict(name='cls_dkd', student='bbox_head', teacher='bbox_head',
                  loss=dict(type='mmkd.DKDLoss', alpha=1.0, beta=8.0, temperature=4.0, target='gt',
                            with_background=True, weighting='teacher_score', loss_weight=0.5)),
             dict(name='obj_kd', student='bbox_head', teacher='bbox_head',
                  loss=dict(type='mmkd.SigmoidKDLoss', class_weight=0.0, objectness_weight=1.0,
                            weighting='all', loss_weight=1.0)),
             dict(name='box_kd', student='bbox_head', teacher='bbox_head',
                  loss=dict(type='mmkd.BoxKDLoss', score_thr=0.5, loss_weight=2.0)),
         ]),
]
