# Zhang & Ma (ICLR 2021): attention-guided distillation (attention transfer +
# attention-masked imitation) on all neck levels and non-local distillation on the
# stride-16/32 levels with sub-sampled keys (a stride-8 non-local costs too much on
# CPU), one-stage weights alpha=gamma=4e-4, beta=2e-2.
# See docs/feature_kd.md. Used by configs/distill/attention_yolox_*.py.
# loss_weight 0.1 (attention part): the paper's weights above give a distillation loss
# of 46 at the first iteration of the NEON YOLOX pair, against a detection loss of about
# 13 (YOLOX sees raw 0-255 pixels and trains briefly from scratch, so its features are
# larger than in the setting the weights were tuned in); 0.1 (attention part) brings it
# to about 4.6, a third of the detection loss. Measured with
#   python tools/train.py configs/distill/attention_yolox_neon.py --cfg-options \
#       train_cfg.max_epochs=1 default_hooks.logger.interval=1
distill = [
    dict(name='neck_attention', student='neck', teacher='neck', adapter='auto',
         loss=dict(type='mmkd.AttentionGuidedLoss', alpha_at=4e-4, beta_am=2e-2,
                   temperature=0.5, loss_weight=0.1)),
    dict(name='neck_nonlocal_1', student='neck[1]', teacher='neck[1]', adapter='auto',
         loss=dict(type='mmkd.NonLocalDistillLoss', gamma=4e-4,
                   sub_sample=True)),
    dict(name='neck_nonlocal_2', student='neck[2]', teacher='neck[2]', adapter='auto',
         loss=dict(type='mmkd.NonLocalDistillLoss', gamma=4e-4,
                   sub_sample=True)),
]
