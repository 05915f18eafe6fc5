"""Adversarial distillation's hook: trains the discriminator of :class:`mmkd.AdversarialLoss`."""
from contextlib import contextmanager
from typing import Any, Dict, Iterator, Optional, Sequence

import torch
from mmengine.dist import all_reduce_params, is_distributed
from mmengine.optim import OptimWrapper, build_optim_wrapper
from torch import nn

from mmkd.hooks import DistillationHook
from mmkd.losses.adversarial import AdversarialLoss
from mmkd.registry import HOOKS


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
        self.discriminator_optim_cfg = discriminator_optim_wrapper or dict(
            type='OptimWrapper', optimizer=dict(type='Adam', lr=2e-4, betas=(0.5, 0.999)))

    def set_up(self, runner) -> None:
        """The base set-up (its probe sizes the discriminators), then their optimizer."""
        super().set_up(runner)
        self.discriminators = nn.ModuleList(loss.discriminator for loss in self.adversarial)
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
