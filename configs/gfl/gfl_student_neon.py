# GFL student for the NEON tree crowns: the GFL teacher's depth at half its width,
# as the YOLOX student (configs/yolox/yolox_student_neon.py): widen 0.25
# (64/128/256 backbone outputs), 64-channel neck and head (GN with 16 groups).
# Backbone and neck start from the YOLOX baseline student of seed 0 (its EMA weights
# after 40 epochs, val mAP 0.043: benchmarks/results/neon/baseline/seed0.json), the way
# COCO students start from a pretrained backbone; the head starts from scratch. Baseline
# and distilled students share this start, so their paired gains measure the head's
# distillation. From scratch, a GFL model of the teacher's size was at val mAP 0.003
# after 30 of the YOLOX recipe's epochs (gfl_teacher_neon.py).
_base_ = './gfl_s_neon.py'

student_start = 'benchmarks/results/neon_gfl/init/yolox_student_seed0_backbone_neck.pth'
model = dict(
    backbone=dict(widen_factor=0.25,
                  init_cfg=[dict(type='Pretrained', checkpoint=student_start, prefix='backbone.')]),
    neck=dict(in_channels=[64, 128, 256], out_channels=64,
              init_cfg=[dict(type='Pretrained', checkpoint=student_start, prefix='neck.')]),
    bbox_head=dict(in_channels=64, feat_channels=64, norm_cfg=dict(num_groups=16)))
