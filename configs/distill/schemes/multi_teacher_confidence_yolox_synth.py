# Confidence-aware multi-teacher response distillation (CA-MKD, Zhang et al.
# ICASSP 2022) on the synthetic shapes: YOLOX-s and YOLOX-m teachers (same
# head outputs) are averaged per image into one target (combine='target'),
# each image weighting the teachers by softmax(c / 0.1), c = the teacher's
# mean score of the true class on the GT priors of that image.
# Train models/yolox_m_synth.py first. Cost: two frozen teachers, two teacher
# forwards per step.
_base_ = '../../yolox/yolox_student_synth.py'

custom_imports = dict(imports=['mmkd'], allow_failed_imports=False)
teachers = [
    dict(name='yolox_s', config='configs/yolox/yolox_teacher_synth.py',
         checkpoint='work_dirs/yolox_teacher_synth/teacher.pth'),
    dict(name='yolox_m', config='configs/distill/schemes/models/yolox_m_synth.py',
         checkpoint='work_dirs/yolox_m_synth/epoch_10.pth'),
]
custom_hooks = _base_.custom_hooks + [
    dict(type='mmkd.MultiTeacherDistillationHook',
         teachers=teachers,
         combine='target',
         weighting=dict(type='mmkd.ConfidenceTeacherWeights', temperature=0.1),
         distill=[
             dict(name='head_kd', student='bbox_head', teacher='bbox_head',
                  loss=dict(type='mmkd.SigmoidKDLoss', loss_weight=1.0)),
         ]),
]
