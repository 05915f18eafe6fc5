# YOLOX teacher (configs/yolox/yolox_teacher_neon.py) -> half-width
# student (yolox_student_neon.py) on NEON tree crowns: sigmoid-aware
# response KD (class + objectness, per-prior binary KD weighted by the
# teacher's score) plus box KD toward the teacher's confident boxes.
# See docs/response_kd.md.
_base_ = '../yolox/yolox_student_neon.py'

custom_imports = dict(imports=['mmkd'], allow_failed_imports=False)
teacher_config = 'configs/yolox/yolox_teacher_neon.py'
teacher_checkpoint = 'work_dirs/yolox_teacher_neon/teacher.pth'
# keep the student's own hooks (YOLOX mode switch, SyncNorm, EMA) and append mmkd's
custom_hooks = _base_.custom_hooks + [
    dict(type='mmkd.DistillationHook',
         teacher=dict(config=teacher_config, checkpoint=teacher_checkpoint),
         distill=[
             dict(name='cls_kd', student='bbox_head', teacher='bbox_head',
                  loss=dict(type='mmkd.SigmoidKDLoss', temperature=1.0, objectness_weight=1.0,
                            weighting='teacher_score', loss_weight=1.0)),
             dict(name='box_kd', student='bbox_head', teacher='bbox_head',
                  loss=dict(type='mmkd.BoxKDLoss', score_thr=0.5, iou_weight=1.0, l1_weight=1.0,
                            loss_weight=2.0)),
         ]),
]
