# YOLOX teacher (configs/yolox/yolox_teacher_synth.py) -> half-width
# student (yolox_student_synth.py) on the synthetic shapes: plain Hinton KD
# (softmax over the class channel) on the class logits of every level, the
# baseline for the sigmoid-aware losses. Not for one-class datasets (NEON):
# a softmax over one class is constant; use sigmoid_kd_yolox_neon.py there.
_base_ = './_base_/pairs/yolox_synth.py'

custom_hooks = _base_.custom_hooks + [dict(
    _base_.distillation_hook,
    distill=[
        dict(name='cls_kd', student='bbox_head[0]', teacher='bbox_head[0]',
             loss=dict(type='mmkd.KDLoss', temperature=4.0, loss_weight=1.0)),
    ])]
