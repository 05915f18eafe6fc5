"""Adversarial distillation: a discriminator tells teacher from student features; the
student's loss fools it (the discriminator's own step is the scheme hook's,
:class:`mmkd.schemes.AdversarialDistillationHook`)."""
from .adversarial import AdversarialLoss, gan_loss
from .discriminator import FeatureDiscriminator

__all__ = ['AdversarialLoss', 'FeatureDiscriminator', 'gan_loss']
