# Adversarial feature distillation on the synthetic shapes, YOLOX-s teacher
# -> YOLOX student: a small PatchGAN discriminator per entry learns to tell
# teacher neck features (128 ch) from adapted student features; the student
# learns to fool it (LSGAN), alongside plain feature imitation. The
# discriminator has its own Adam optimizer (not the student's); its weights
# and optimizer state are saved under checkpoint['mmkd'] and resumed; its
# loss logs as disc_loss.
# Wang et al. AAAI 2018; Xu et al. ICLR-W 2018.
# Cost: one frozen teacher, one small discriminator (~0.1 M params) trained
# once per iteration.
_base_ = '../../yolox/yolox_student_synth.py'

custom_imports = dict(imports=['mmkd'], allow_failed_imports=False)
teacher_config = 'configs/yolox/yolox_teacher_synth.py'
teacher_checkpoint = 'work_dirs/yolox_teacher_synth/teacher.pth'
custom_hooks = _base_.custom_hooks + [
    dict(type='mmkd.AdversarialDistillationHook',
         teacher=dict(config=teacher_config, checkpoint=teacher_checkpoint),
         distill=[
             dict(name='neck_mse', student='neck', teacher='neck',
                  loss=dict(type='mmkd.FeatureMSELoss', loss_weight=1.0)),
             dict(name='neck_adv', student='neck', teacher='neck',
                  loss=dict(type='mmkd.AdversarialLoss', gan_type='lsgan', loss_weight=0.1,
                            discriminator=dict(type='mmkd.FeatureDiscriminator', feat_channels=64,
                                               num_convs=2))),
         ],
         discriminator_optim_wrapper=dict(
             type='OptimWrapper', optimizer=dict(type='Adam', lr=2e-4, betas=(0.5, 0.999)))),
]
