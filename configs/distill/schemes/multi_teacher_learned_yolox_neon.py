# Multi-teacher distillation with learnt teacher weights on NEON: multi_teacher_yolox_neon.py,
# but w = softmax(alpha) is trained with the student on its own scale-free objective (relative
# teacher losses plus an entropy term, loss_teacher_weights); the weights log as w_yolox,
# w_early, w_gfl.
_base_ = './multi_teacher_yolox_neon.py'

custom_hooks = [
    dict(hook, weighting=dict(type='mmkd.LearnedTeacherWeights', entropy_weight=0.1))
    if hook.type == 'mmkd.MultiTeacherDistillationHook' else hook
    for hook in _base_.custom_hooks
]
