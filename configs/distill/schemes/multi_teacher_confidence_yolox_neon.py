# Confidence-aware multi-teacher response distillation (CA-MKD, Zhang et al. ICASSP 2022) on NEON:
# the strong YOLOX teacher and its 30-epoch checkpoint (same head outputs; the GFL teacher's head
# is not YOLOX's, so it cannot join a response ensemble) are averaged per image into one target
# (combine='target'), each image weighting the teachers by softmax(c / 0.1), c = the teacher's
# mean score of the true class on the GT priors of that image. Balance: sigmoid KD's leaf ratio
# on this pair, 1.0 x the detection loss (sigmoid_kd_yolox_neon.py, chosen on held-out tiles).
# Cost: two frozen teachers, two teacher forwards a step.
_base_ = './multi_teacher_yolox_neon.py'

custom_hooks = [
    dict(hook, teachers=hook.teachers[:2], combine='target',
         weighting=dict(type='mmkd.ConfidenceTeacherWeights', temperature=0.1),
         balance=dict(hook.balance, target_ratio=1.0),
         distill=[dict(name='head_kd', student='bbox_head', teacher='bbox_head',
                       loss=dict(type='mmkd.SigmoidKDLoss', loss_weight=1.0))])
    if hook.type == 'mmkd.MultiTeacherDistillationHook' else hook
    for hook in _base_.custom_hooks
]
