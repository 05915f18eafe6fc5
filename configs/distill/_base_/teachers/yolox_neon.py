# The NEON YOLOX-s teacher (trained once, 300 epochs; docs/results.md, "The teacher") and mmkd's
# import: what every NEON YOLOX student distilled or initialised from it names, whatever the
# student (the half-width pair in ../pairs/yolox_neon.py, the longer schedule, YOLOX-tiny).
custom_imports = dict(imports=['mmkd'], allow_failed_imports=False)
teacher_config = 'configs/yolox/yolox_teacher_neon.py'
teacher_checkpoint = 'work_dirs/yolox_teacher_neon/teacher.pth'
