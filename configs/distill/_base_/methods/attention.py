# Zhang & Ma (ICLR 2021): attention-guided distillation (attention transfer +
# attention-masked imitation) on all neck levels and non-local distillation on the
# stride-16/32 levels with sub-sampled keys (a stride-8 non-local costs too much on
# CPU), one-stage weights alpha=gamma=4e-4, beta=2e-2.
# See docs/feature_kd.md. Used by configs/distill/attention_yolox_*.py.
# The paper's weights as they are (loss_weight 1). The CPU pairs (NEON, synthetic) set
# an automatic balance instead (_base_/pairs/yolox_neon.py); at COCO scale these weights apply.
distill = [
    dict(name='neck_attention', student='neck', teacher='neck', adapter='auto',
         loss=dict(type='mmkd.AttentionGuidedLoss', alpha_at=4e-4, beta_am=2e-2,
                   temperature=0.5, loss_weight=1.0)),
    dict(name='neck_nonlocal_1', student='neck[1]', teacher='neck[1]', adapter='auto',
         loss=dict(type='mmkd.NonLocalDistillLoss', gamma=4e-4,
                   sub_sample=True)),
    dict(name='neck_nonlocal_2', student='neck[2]', teacher='neck[2]', adapter='auto',
         loss=dict(type='mmkd.NonLocalDistillLoss', gamma=4e-4,
                   sub_sample=True)),
]
