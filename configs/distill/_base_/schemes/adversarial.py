# Adversarial feature distillation (Wang et al. AAAI 2018; Xu et al. ICLR-W 2018): a small
# PatchGAN discriminator tells teacher neck features from adapted student ones; the student
# learns to fool it (LSGAN, weight 0.1) alongside plain neck imitation (MSE, weight 1).
# The discriminator has its own Adam (DCGAN's lr 2e-4, betas 0.5/0.999), not the
# student's optimizer; it and its optimizer state are saved under checkpoint['mmkd'] and
# resumed; its loss logs as disc_loss. Its input width defaults to the teacher's (probed).
# Cost: one frozen teacher and its forward a step, one small discriminator (~0.1 M params)
# trained once a step.
# A leaf sets the teacher (and, optionally, the loss balance) from its pair
# (_base_/pairs/); `neck_adv` and `discriminator` are named so a leaf can rebuild them.
# See docs/schemes.md. Used by configs/distill/schemes/adversarial_yolox_*.py.
discriminator = dict(type='mmkd.FeatureDiscriminator', feat_channels=64, num_convs=2)
neck_adv = dict(name='neck_adv', student='neck', teacher='neck',
                loss=dict(type='mmkd.AdversarialLoss', gan_type='lsgan', loss_weight=0.1,
                          discriminator=discriminator))
scheme_hook = dict(
    type='mmkd.AdversarialDistillationHook',
    distill=[
        dict(name='neck_mse', student='neck', teacher='neck',
             loss=dict(type='mmkd.FeatureMSELoss', loss_weight=1.0)),
        neck_adv,
    ],
    discriminator_optim_wrapper=dict(
        type='OptimWrapper', optimizer=dict(type='Adam', lr=2e-4, betas=(0.5, 0.999))))
