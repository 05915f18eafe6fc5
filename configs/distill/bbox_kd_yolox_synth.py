# YOLOX teacher (configs/yolox/yolox_teacher_synth.py) -> half-width
# student (yolox_student_synth.py) on the synthetic shapes: box KD only (GIoU +
# stride-normalised L1 toward the teacher's decoded boxes on priors the
# teacher scores above 0.5, weighted by that score). See docs/response_kd.md.
_base_ = '../yolox/yolox_student_synth.py'

custom_imports = dict(imports=['mmkd'], allow_failed_imports=False)
teacher_config = 'configs/yolox/yolox_teacher_synth.py'
teacher_checkpoint = 'work_dirs/yolox_teacher_synth/teacher.pth'
# keep the student's own hooks (YOLOX mode switch, SyncNorm, EMA) and append mmkd's
custom_hooks = _base_.custom_hooks + [
    dict(type='mmkd.DistillationHook',
         teacher=dict(config=teacher_config, checkpoint=teacher_checkpoint),
         distill=[
             dict(name='box_kd', student='bbox_head', teacher='bbox_head',
                  loss=dict(type='mmkd.BoxKDLoss', iou_mode='giou', score_thr=0.5, loss_weight=2.0)),
         ]),
]
