# GID (Dai et al., CVPR 2021): neck imitation on the regions of the general
# instances (per image: max class-score discrepancy, box of the more confident
# model, NMS IoU 0.3, top 10), read from both bbox_heads.
# See docs/feature_kd.md. Used by configs/distill/gid_yolox_*.py.
# loss_weight 0.02: the paper's weights above give a distillation loss of 257 at the
# first iteration of the NEON YOLOX pair, against a detection loss of about 13 (YOLOX
# sees raw 0-255 pixels and trains briefly from scratch, so its features are larger than
# in the setting the weights were tuned in); 0.02 brings it to about 5.1, a third of the
# detection loss. Measured with
#   python tools/train.py configs/distill/gid_yolox_neon.py --cfg-options \
#       train_cfg.max_epochs=1 default_hooks.logger.interval=1
distill = [
    dict(name='neck_gid', student='neck', teacher='neck', adapter='auto',
         loss=dict(type='mmkd.MaskedFeatureLoss',
                   mask=dict(type='mmkd.GIDMask', iou_threshold=0.3, topk=10),
                   normalize='mask', loss_weight=0.02)),
]
