# YOLOX-L teacher -> YOLOX-S student on the synthetic shapes: box KD only (GIoU +
# stride-normalised L1 toward the teacher's decoded boxes on priors the
# teacher scores above 0.5, weighted by that score). See docs/response_kd.md.
_base_ = '../yolox/yolox_student_synth.py'

custom_imports = dict(imports=['mmkd'], allow_failed_imports=False)
teacher_config = 'configs/yolox/yolox_teacher_synth.py'
teacher_checkpoint = 'work_dirs/yolox_teacher_synth/teacher.pth'
custom_hooks = [
    dict(type='YOLOXModeSwitchHook', num_last_epochs={{_base_.num_last_epochs}}, priority=48),
    dict(type='SyncNormHook', priority=48),
    dict(type='EMAHook', ema_type='ExpMomentumEMA', momentum=0.0001, update_buffers=True, priority=49),
    dict(type='mmkd.DistillationHook',
         teacher=dict(config=teacher_config, checkpoint=teacher_checkpoint),
         distill=[
             dict(name='box_kd', student='bbox_head', teacher='bbox_head',
                  loss=dict(type='mmkd.BoxKDLoss', iou_mode='giou', score_thr=0.5, loss_weight=2.0)),
         ]),
]
