# Relation-based distillation on the synthetic shapes, YOLOX-s teacher ->
# YOLOX student: the student matches how features relate rather than the
# features themselves.
# - GID instance relation (Dai et al. CVPR 2021, RKD distances of Park et al.
#   CVPR 2019): GT boxes RoI-aligned on their FPN level, normalised pairwise
#   distances within each image, Smooth-L1.
# - Pair-wise pixel relation (Liu et al. CVPR 2019): cosine similarities
#   between the 8 x 8 pooled cells of each image and level.
# Relations do not depend on the width; the 1x1 adapters (64 -> 128) act as
# a learnt embedding. Cost: one frozen teacher; the relation matrices are
# small (instances^2 and 64^2 per image and level).
_base_ = '../../yolox/yolox_student_synth.py'

custom_imports = dict(imports=['mmkd'], allow_failed_imports=False)
teacher_config = 'configs/yolox/yolox_teacher_synth.py'
teacher_checkpoint = 'work_dirs/yolox_teacher_synth/teacher.pth'
custom_hooks = _base_.custom_hooks + [
    dict(type='mmkd.DistillationHook',
         teacher=dict(config=teacher_config, checkpoint=teacher_checkpoint),
         distill=[
             dict(name='instance_relation', student='neck', teacher='neck',
                  loss=dict(type='mmkd.InstanceRelationLoss', roi_size=7, finest_scale=56.0,
                            scope='image', loss_weight=1.0)),
             dict(name='pixel_relation', student='neck', teacher='neck',
                  loss=dict(type='mmkd.PixelRelationLoss', grid=8, loss_weight=1.0)),
         ]),
]
