# YOLOX-m sized model for the synthetic shapes (deepen 0.67, widen 0.75:
# 192/384/768 backbone outputs, 192-channel neck and head), trained with the
# same recipe as configs/yolox/yolox_teacher_synth.py. The second YOLOX teacher
# of the multi-teacher configs and the top teacher of the teacher-assistant
# chain; train it first:
#   python tools/train.py configs/distill/schemes/models/yolox_m_synth.py
_base_ = '../../../yolox/yolox_teacher_synth.py'

model = dict(
    backbone=dict(deepen_factor=0.67, widen_factor=0.75),
    neck=dict(in_channels=[192, 384, 768], out_channels=192, num_csp_blocks=2),
    bbox_head=dict(in_channels=192, feat_channels=192))
