# Teacher-assistant chain (Mirzadeh et al., AAAI 2020) on the synthetic
# shapes: YOLOX-m teacher -> YOLOX-s assistant -> YOLOX student (widen 0.25).
# Run with
#   python tools/teacher_assistant.py configs/distill/schemes/teacher_assistant_yolox_synth.py \
#       --work-dir work_dirs/teacher_assistant_yolox_synth
# Each stage config is a distillation config whose hook gets the previous
# stage (its config and last checkpoint) as teacher; every stage is evaluated
# with its runner's COCO evaluator and the table is printed.
teacher = dict(config='configs/distill/schemes/models/yolox_m_synth.py',
               checkpoint='work_dirs/yolox_m_synth/epoch_10.pth')
stages = [
    dict(name='assistant', config='configs/distill/schemes/ta_assistant_yolox_synth.py'),
    dict(name='student', config='configs/distill/schemes/ta_student_yolox_synth.py'),
]
metric = 'coco/bbox_mAP'
