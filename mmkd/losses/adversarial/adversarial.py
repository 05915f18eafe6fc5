"""The student's adversarial loss: fool the discriminator."""
from typing import List, Optional, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor

from mmkd.context import DistillContext
from mmkd.registry import MODELS, build_mmkd_module

from ..base import DistillLoss


def gan_loss(logits: Tensor, real: bool, gan_type: str) -> Tensor:
    """``vanilla``: BCE with logits; ``lsgan``: ``(D(x) - label)^2``; mean over locations."""
    target = torch.full_like(logits, 1.0 if real else 0.0)
    if gan_type == 'lsgan':
        return F.mse_loss(logits, target)
    return F.binary_cross_entropy_with_logits(logits, target)


@MODELS.register_module()
class AdversarialLoss(DistillLoss):
    """The student's side of adversarial feature distillation: fool the discriminator.

    With ``D`` the entry's discriminator (teacher features real, adapted
    student features fake), per level ``l``::

        L_S = loss_weight * mean_l l_gan(D(r(S_l)), real)                  # student + adapter
        L_D = mean_l [l_gan(D(T_l), real) + l_gan(D(sg(r(S_l))), fake)] / 2  # discriminator

    ``D`` is frozen while the student's loss is computed (its parameters
    stay out of the student's optimizer); :class:`AdversarialDistillationHook`
    trains it with its own optimizer on ``L_D`` after each student step,
    from the features this loss kept. Usually paired with a feature
    imitation entry (e.g. MSE) on the same outputs.

    Wang et al., "Adversarial Learning of Portable Student Networks", AAAI
    2018; Xu et al., "Training Shallow and Thin Networks for Acceleration via
    Knowledge Distillation with Conditional Adversarial Networks", ICLR
    Workshops 2018.

    Args:
        discriminator: config of the discriminator, e.g.
            ``dict(type='mmkd.FeatureDiscriminator', in_channels=256)``.
        gan_type: ``'lsgan'`` (least squares, Mao et al. 2017) or ``'vanilla'``.
        loss_weight: multiplier of ``L_S``.
    """

    def __init__(self, discriminator: dict, gan_type: str = 'lsgan', loss_weight: float = 1.0) -> None:
        super().__init__(loss_weight)
        if gan_type not in ('lsgan', 'vanilla'):
            raise ValueError(f'gan_type must be "lsgan" or "vanilla", got "{gan_type}"')
        self.discriminator = build_mmkd_module(discriminator).requires_grad_(False)
        self.gan_type = gan_type
        self.trained_by_hook = False
        self._features: Optional[Tuple[List[Tensor], List[Tensor]]] = None

    def forward(self, student: List[Tensor], teacher: List[Tensor], ctx: DistillContext) -> Tensor:
        if not self.trained_by_hook:
            raise RuntimeError('mmkd.AdversarialLoss needs type="mmkd.AdversarialDistillationHook", which trains '
                               'its discriminator; the plain DistillationHook would leave it untrained')
        self._features = ([s.detach() for s in student], [t.detach() for t in teacher])
        fooled = [gan_loss(self.discriminator(s), True, self.gan_type) for s in student]
        return self.loss_weight * torch.stack(fooled).mean()

    def discriminator_loss(self) -> Optional[Tensor]:
        """``L_D`` on the features of the last student step (``None`` if there was none)."""
        if self._features is None:
            return None
        student, teacher = self._features
        self._features = None
        terms = [gan_loss(self.discriminator(t), True, self.gan_type)
                 + gan_loss(self.discriminator(s), False, self.gan_type) for s, t in zip(student, teacher)]
        return torch.stack(terms).mean() / 2
