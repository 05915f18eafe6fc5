# Multi-teacher distillation with fixed weights on NEON tree crowns: three teachers of different
# quality and family teach the half-width YOLOX student's neck together,
#   L = sum_k 1/3 * MSE(r_k(S), T_k),   one set of 1x1 adapters (64 -> 128 channels) per teacher:
#   yolox     the pair's YOLOX-s teacher (val mAP 0.201),
#   early     the same teacher after 30 of its 300 epochs (models/yolox_teacher_early_neon.py),
#   gfl       a GFL detector on the same backbone and neck (configs/gfl/gfl_teacher_neon.py, 0.187):
#             another head family, so only its features are paired (combine='loss').
# The fixed average is the reference of the selection variants (multi_teacher_{bandit,learned}_*).
# Balance: the pair's, the combined term at 0.3 x the detection loss after 10 measured
# iterations (_base_/pairs/yolox_neon.py). Cost: three frozen teachers, three teacher forwards.
_base_ = '../_base_/pairs/yolox_neon.py'

teachers = [
    dict(name='yolox', config=_base_.teacher_config, checkpoint=_base_.teacher_checkpoint),
    dict(name='early', config='configs/distill/schemes/models/yolox_teacher_early_neon.py',
         checkpoint='work_dirs/yolox_teacher_early_neon/teacher.pth'),
    dict(name='gfl', config='configs/gfl/gfl_teacher_neon.py', checkpoint='work_dirs/gfl_teacher_neon/teacher.pth'),
]
custom_hooks = _base_.custom_hooks + [
    dict(type='mmkd.MultiTeacherDistillationHook',
         teachers=teachers,
         combine='loss',
         weighting=dict(type='mmkd.FixedTeacherWeights', weights=[1 / 3, 1 / 3, 1 / 3]),
         balance=_base_.distillation_hook.balance,
         distill=[
             dict(name='neck_mse', student='neck', teacher='neck',
                  loss=dict(type='mmkd.FeatureMSELoss', loss_weight=1.0)),
         ]),
]
