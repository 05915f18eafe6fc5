"""Adversarial distillation: a discriminator tells teacher from student features."""
from contextlib import contextmanager
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from mmengine.dist import all_reduce_params, is_distributed
from mmengine.optim import OptimWrapper, build_optim_wrapper
from torch import Tensor, nn

from mmkd.context import DistillContext
from mmkd.engine.distiller import build_mmkd_module
from mmkd.hooks import DistillationHook
from mmkd.losses.base import DistillLoss
from mmkd.registry import HOOKS, MODELS


@MODELS.register_module()
class FeatureDiscriminator(nn.Module):
    """A small fully convolutional (PatchGAN-style) discriminator.

    ``num_convs`` 3x3 convolutions with LeakyReLU, then a 1x1 convolution to
    one logit per location (``(B, 1, H, W)``): "is this a teacher feature?".
    Shared by all levels of an entry.

    Args:
        in_channels: channels of the teacher feature (the adapted student has
            the same).
        feat_channels: hidden channels.
        num_convs: hidden 3x3 convolutions.
    """

    def __init__(self, in_channels: int, feat_channels: int = 64, num_convs: int = 2) -> None:
        super().__init__()
        layers: List[nn.Module] = []
        for index in range(num_convs):
            layers += [nn.Conv2d(in_channels if index == 0 else feat_channels, feat_channels, 3, padding=1),
                       nn.LeakyReLU(0.2, inplace=True)]
        layers.append(nn.Conv2d(feat_channels if num_convs else in_channels, 1, 1))
        self.layers = nn.Sequential(*layers)
        self.in_channels = in_channels

    def forward(self, feat: Tensor) -> Tensor:
        if feat.shape[1] != self.in_channels:
            raise ValueError(f'the discriminator expects {self.in_channels} channels (in_channels) but the '
                             f'distilled feature has {feat.shape[1]}: set in_channels to the teacher\'s width')
        return self.layers(feat)


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


@HOOKS.register_module()
class AdversarialDistillationHook(DistillationHook):
    """Distillation hook that also trains the discriminators of adversarial entries.

    Entries with :class:`AdversarialLoss` add the student's ``L_S``; after
    every training iteration (once the student's optimizer stepped) this hook
    updates the discriminators on ``L_D`` with their own optimizer
    (``discriminator_optim_wrapper``, Adam by default), separate from the
    student's. Discriminator weights are saved with the distillation modules
    (``checkpoint['mmkd']['distiller']``), their optimizer state under
    ``checkpoint['mmkd']['discriminator_optimizer']``; both resume. ``L_D`` is
    logged as ``disc_loss``. Under DDP the discriminators' gradients are
    averaged over ranks.

    Args:
        teacher: as for :class:`DistillationHook`.
        distill: entries; at least one with ``loss=dict(type='mmkd.AdversarialLoss', ...)``.
        discriminator_optim_wrapper: ``OptimWrapper`` config of the discriminators.
        **kwargs: the other arguments of :class:`DistillationHook`.
    """

    def __init__(self, teacher: dict, distill: Sequence[dict], discriminator_optim_wrapper: Optional[dict] = None,
                 **kwargs) -> None:
        super().__init__(teacher=teacher, distill=distill, **kwargs)
        self.adversarial = [loss for loss in self.distiller.losses.values() if isinstance(loss, AdversarialLoss)]
        if not self.adversarial:
            raise ValueError('AdversarialDistillationHook needs at least one distill entry with '
                             'loss=dict(type="mmkd.AdversarialLoss", discriminator=...)')
        for loss in self.adversarial:
            loss.trained_by_hook = True
        self.discriminators = nn.ModuleList(loss.discriminator for loss in self.adversarial)
        self.discriminator_optim_cfg = discriminator_optim_wrapper or dict(
            type='OptimWrapper', optimizer=dict(type='Adam', lr=2e-4, betas=(0.5, 0.999)))

    def set_up(self, runner) -> None:
        super().set_up(runner)
        self.discriminator_optim_wrapper: OptimWrapper = build_optim_wrapper(
            self.discriminators, self.discriminator_optim_cfg)

    def after_train_iter(self, runner, batch_idx: int, data_batch: Any = None, outputs: Any = None) -> None:
        """One discriminator step on the features of this iteration."""
        super().after_train_iter(runner, batch_idx, data_batch, outputs)
        with _trainable(self.discriminators):
            losses = [loss.discriminator_loss() for loss in self.adversarial]
            losses = [loss for loss in losses if loss is not None]
            if not losses:
                return
            loss = torch.stack(losses).sum()
            self.discriminator_optim_wrapper.backward(loss)
            if is_distributed():
                all_reduce_params([p.grad for p in self.discriminators.parameters() if p.grad is not None],
                                  op='mean')
            self.discriminator_optim_wrapper.step()
            self.discriminator_optim_wrapper.zero_grad()
        runner.message_hub.update_scalar('train/disc_loss', float(loss.detach()))

    def checkpoint_state(self) -> Dict[str, Any]:
        state = super().checkpoint_state()
        state['discriminator_optimizer'] = self.discriminator_optim_wrapper.state_dict()
        return state

    def load_checkpoint_state(self, state: Dict[str, Any]) -> None:
        super().load_checkpoint_state(state)
        self.discriminator_optim_wrapper.load_state_dict(state['discriminator_optimizer'])


@contextmanager
def _trainable(module: nn.Module) -> Iterator[nn.Module]:
    """Gradients for ``module``'s parameters inside the block only."""
    module.requires_grad_(True)
    try:
        yield module
    finally:
        module.requires_grad_(False)
