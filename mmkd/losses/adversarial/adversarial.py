"""The student's adversarial loss: fool the discriminator."""
from typing import List, Optional, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mmkd.context import DistillContext
from mmkd.registry import MODELS, build_mmkd_module

from ..base import DistillLoss, checked_channels


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

    One discriminator serves every level of the entry; its ``in_channels``
    default to the teacher's channels, found by the hook's probe.

    Args:
        discriminator: config of the discriminator (default
            ``dict(type='mmkd.FeatureDiscriminator')``, widths from the probe).
        gan_type: ``'lsgan'`` (least squares, Mao et al. 2017) or ``'vanilla'``.
        loss_weight: multiplier of ``L_S``.
    """

    def __init__(self, discriminator: Optional[dict] = None, gan_type: str = 'lsgan',
                 loss_weight: float = 1.0) -> None:
        super().__init__(loss_weight)
        if gan_type not in ('lsgan', 'vanilla'):
            raise ValueError(f'gan_type must be "lsgan" or "vanilla", got "{gan_type}"')
        self.discriminator_cfg = dict(discriminator or dict(type='mmkd.FeatureDiscriminator'))
        self.discriminator: Optional[nn.Module] = None
        if 'in_channels' in self.discriminator_cfg:
            self._build_discriminator(self.discriminator_cfg['in_channels'])
        self.gan_type = gan_type
        self.trained_by_hook = False
        self._features: Optional[Tuple[List[Tensor], List[Tensor]]] = None

    def build_for_levels(self, channels: List[int]) -> None:
        """The discriminator, as wide as the teacher's levels (all of one width)."""
        if len(set(channels)) != 1:
            raise ValueError(f'AdversarialLoss has one discriminator for all levels of the entry, but they have '
                             f'{channels} channels; distil levels of one width (or one level) per entry')
        if self.discriminator is None:
            self._build_discriminator(channels[0])
        else:
            checked_channels(self, [self.discriminator_cfg['in_channels']], channels[:1])

    def _build_discriminator(self, in_channels: int) -> None:
        cfg = dict(self.discriminator_cfg, in_channels=in_channels)
        self.discriminator = build_mmkd_module(cfg).requires_grad_(False)

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
