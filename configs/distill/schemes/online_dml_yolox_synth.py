# Online distillation (Deep Mutual Learning, Zhang et al. CVPR 2018) on the
# synthetic shapes: two YOLOX students (widen 0.25) train together from
# scratch, each distilling the other's detached class/objectness responses
# (sigmoid KD, mirrored for the peer) and neck features. The peer joins the
# student's optimizer and LR schedule; its detection losses log as
# loss_peer_*, its val metrics as val/peer/*. Export it as a plain mmdet
# checkpoint with mmkd.schemes.export_peer_checkpoint(
#     'work_dirs/online_dml_yolox_synth/epoch_10.pth', 'peer.pth').
# Cost: two trainable models (weights, gradients, optimizer state), about 2x
# the student's step time. See docs/schemes.md.
_base_ = '../../yolox/yolox_student_synth.py'

custom_imports = dict(imports=['mmkd'], allow_failed_imports=False)
custom_hooks = _base_.custom_hooks + [
    dict(type='mmkd.OnlineDistillationHook',
         peer=dict(config='configs/yolox/yolox_student_synth.py'),  # from scratch: no checkpoint
         distill=[
             dict(name='head_kd', student='bbox_head', teacher='bbox_head',
                  loss=dict(type='mmkd.SigmoidKDLoss', weighting='all', loss_weight=1.0)),
             dict(name='neck_mse', student='neck', teacher='neck',
                  loss=dict(type='mmkd.FeatureMSELoss', loss_weight=0.5)),
         ],
         peer_loss_weight=1.0,
         evaluate_peer=True,
         schedule=dict(warmup_iters=32)),
]
