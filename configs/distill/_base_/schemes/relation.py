# Relation-based distillation: the student matches how features relate rather than the
# features themselves, on every neck level.
# - GID instance relation (Dai et al. CVPR 2021; RKD distances, Park et al. CVPR 2019):
#   the GT boxes RoI-aligned on their FPN level, normalised pairwise distances within
#   each image, Smooth-L1.
# - Pair-wise pixel relation (Liu et al. CVPR 2019): cosine similarities between the
#   8 x 8 pooled cells of each image and level.
# Relations do not depend on the width; the 1x1 adapters (student -> teacher width) act as
# a learnt embedding.
# Cost: one frozen teacher and its forward a step; the relation matrices are small
# (instances^2 and 64^2 per image and level).
# A leaf sets the teacher (and, optionally, the loss balance) from its pair
# (_base_/pairs/). See docs/schemes.md. Used by configs/distill/schemes/relation_yolox_*.py.
scheme_hook = dict(
    type='mmkd.DistillationHook',
    distill=[
        dict(name='instance_relation', student='neck', teacher='neck',
             loss=dict(type='mmkd.InstanceRelationLoss', roi_size=7, finest_scale=56.0,
                       scope='image', loss_weight=1.0)),
        dict(name='pixel_relation', student='neck', teacher='neck',
             loss=dict(type='mmkd.PixelRelationLoss', grid=8, loss_weight=1.0)),
    ])
