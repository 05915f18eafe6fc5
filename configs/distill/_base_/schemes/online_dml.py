# Online distillation (Deep Mutual Learning, Zhang et al. CVPR 2018): two students train
# together from scratch, each distilling the other's detached class/objectness responses
# (sigmoid KD on all priors, mirrored for the peer) and neck features. The peer joins the
# student's optimizer and LR schedule; its detection losses log as loss_peer_*, its val
# metrics as val/peer/*; export it as a plain mmdet checkpoint with
# mmkd.schemes.export_peer_checkpoint(CHECKPOINT, 'peer.pth').
# Cost: two trainable models (weights, gradients, optimizer state), about 2x the student's
# step time, plus a peer evaluation at each validation.
# A leaf sets the peer (peer=dict(config=<the student config>), no checkpoint: from
# scratch) and the warm-up (schedule=dict(warmup_iters=...)). See docs/schemes.md.
# Used by configs/distill/schemes/online_dml_yolox_*.py.
custom_imports = dict(imports=['mmkd'], allow_failed_imports=False)
scheme_hook = dict(
    type='mmkd.OnlineDistillationHook',
    distill=[
        dict(name='head_kd', student='bbox_head', teacher='bbox_head',
             loss=dict(type='mmkd.SigmoidKDLoss', weighting='all', loss_weight=1.0)),
        dict(name='neck_mse', student='neck', teacher='neck',
             loss=dict(type='mmkd.FeatureMSELoss', loss_weight=0.5)),
    ],
    peer_loss_weight=1.0,
    evaluate_peer=True)
