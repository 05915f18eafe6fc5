# CrossKD, YOLOX teacher -> shallower student (configs/yolox/yolox_student_shallow_neon.py: 1 CSP
# block per backbone stage) on NEON tree crowns: crosskd_yolox_neon.py with the student's backbone
# at deepen 0.1. Neck and head widths are the current student's, so the cross-head adapters are
# the same 1x1 convolutions. `python tools/benchmark.py --set architectures --jobs 2`.
_base_ = './crosskd_yolox_neon.py'

model = dict(backbone=dict(deepen_factor=0.1))
