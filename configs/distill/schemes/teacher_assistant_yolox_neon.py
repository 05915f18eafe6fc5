# Teacher-assistant chain (Mirzadeh et al., AAAI 2020) on NEON tree crowns, where the capacity gap is large:
# YOLOX-s teacher (widen 0.5, 8.9M parameters) -> assistant at half its width (the current student, widen
# 0.25, 2.2M) -> narrow student at a quarter (widen 0.125, 0.56M). Both stages distil with CrossKD.
#   python tools/teacher_assistant.py configs/distill/schemes/teacher_assistant_yolox_neon.py \
#       --work-dir work_dirs/teacher_assistant_yolox_neon
# The benchmark measures the chain against direct CrossKD to the narrow student over paired seeds
# (`python tools/benchmark.py --datasets neon_narrow --jobs 2`, docs/schemes.md).
teacher = dict(config='configs/yolox/yolox_teacher_neon.py', checkpoint='work_dirs/yolox_teacher_neon/teacher.pth')
stages = [
    dict(name='assistant', config='configs/distill/crosskd_yolox_neon.py'),
    dict(name='student', config='configs/distill/schemes/ta_student_yolox_neon.py'),
]
metric = 'coco/bbox_mAP'
