"""Resume where the random draws left off: the generators' states travel in the checkpoint."""
import random
from typing import Any, Dict, List, Optional

import numpy as np
import torch
from mmdet.models.data_preprocessors import BatchSyncRandomResize
from mmengine.dist import all_gather_object, get_rank, get_world_size
from mmengine.hooks import CheckpointHook, Hook
from torch import nn

from mmkd.registry import HOOKS
from mmkd.utils.modules import unwrap

CHECKPOINT_KEY = 'random_state'  # checkpoint[CHECKPOINT_KEY]: one state per rank, beside MMEngine's own keys


def generator_states() -> Dict[str, Any]:
    """The global generators' states: Python's, NumPy's, PyTorch's CPU one and the current CUDA device's."""
    states = dict(python=random.getstate(), numpy=np.random.get_state(), torch=torch.get_rng_state())
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        states['cuda'] = torch.cuda.get_rng_state()
    return states


def set_generator_states(states: Dict[str, Any]) -> None:
    """Put the generators back in the states :func:`generator_states` returned (the PyTorch states as
    CPU byte tensors, wherever the checkpoint was mapped)."""
    random.setstate(states['python'])
    np.random.set_state(states['numpy'])
    torch.set_rng_state(states['torch'].cpu())
    if 'cuda' in states and torch.cuda.is_available():
        torch.cuda.set_rng_state(states['cuda'].cpu())


def resize_augments(model: nn.Module) -> List[BatchSyncRandomResize]:
    """The model's ``BatchSyncRandomResize`` batch augments: each keeps the size it drew last."""
    return [module for module in unwrap(model).modules() if isinstance(module, BatchSyncRandomResize)]


def saves_by_epoch(runner) -> bool:
    """Whether every ``CheckpointHook`` of the runner saves at the end of an epoch (none saves mid-epoch)."""
    return all(hook.by_epoch for hook in runner.hooks if isinstance(hook, CheckpointHook))


def run_state(model: nn.Module) -> Dict[str, Any]:
    """This process's generator states and the last size each ``BatchSyncRandomResize`` drew."""
    return dict(generators=generator_states(), resize_sizes=[augment._input_size for augment in resize_augments(model)])


@HOOKS.register_module()
class RandomStateHook(Hook):
    """Make a resumed run draw what the uninterrupted run would have drawn.

    MMEngine's resume restores weights, optimizer, schedulers and the message
    hub, then re-seeds the generators only when the seed changed: the
    augmentations of the resumed epochs (drawn from the global generators by a
    ``num_workers=0`` loader) restart from the seed, and YOLOX's
    ``BatchSyncRandomResize`` forgets the input size it drew last. A NEON
    student killed at epoch 10 of 40 and resumed ended at mAP 0.074 against
    the uninterrupted run's 0.062 (docs/CONTRIBUTING_NOTES.md).

    This hook stores every rank's :func:`run_state` under
    ``checkpoint['random_state']`` when a checkpoint is saved, and puts
    them back when a run *resumes* from it (not for ``load_from`` alone, which
    starts a new run). Reading the states draws nothing, so a run with the hook
    is the run without it. Under DDP only rank 0 saves checkpoints, so the
    ranks gather their states (one ``all_gather_object`` of a few kB) where
    ``CheckpointHook`` (priority ``VERY_LOW``) may save next: at the end of
    each epoch when it saves by epoch (the default), else after each
    iteration. A checkpoint from another world size, or without
    the states, resumes as MMEngine alone would, with one warning.
    ``tools/train.py`` registers it for every config that does not list it.
    """

    priority = 'LOW'

    def __init__(self) -> None:
        self._gathered: Optional[List[Dict[str, Any]]] = None  # every rank's state where a save may come next
        self._loaded: Optional[List[Dict[str, Any]]] = None  # from the checkpoint, until training starts

    def after_train_iter(self, runner, batch_idx: int, data_batch: Any = None, outputs: Any = None) -> None:
        self._gather_at_saving_point(runner, epoch_end=False)

    def after_train_epoch(self, runner) -> None:
        self._gather_at_saving_point(runner, epoch_end=True)

    def _gather_at_saving_point(self, runner, epoch_end: bool) -> None:
        """Under DDP, every rank's state, at the points where ``CheckpointHook`` saves (epoch ends or iterations)."""
        if get_world_size() > 1 and epoch_end == saves_by_epoch(runner):
            self._gathered = all_gather_object(run_state(runner.model))

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        states = self._gathered if get_world_size() > 1 else [run_state(runner.model)]
        checkpoint[CHECKPOINT_KEY] = states

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        self._loaded = checkpoint.get(CHECKPOINT_KEY)

    def before_train(self, runner) -> None:
        """Restore on resume only: ``runner.iter`` is the checkpoint's, after ``load_from`` it is 0."""
        loaded, self._loaded = self._loaded, None
        if runner.iter == 0:
            return
        if loaded is None or len(loaded) != get_world_size():
            found = 'no random state' if loaded is None else f'the random state of {len(loaded)} ranks'
            runner.logger.warning(f'mmkd.RandomStateHook: the resumed checkpoint holds {found} for '
                                  f'{get_world_size()} ranks; the resumed iterations draw other augmentations '
                                  'than an uninterrupted run would')
            return
        state = loaded[get_rank()]
        set_generator_states(state['generators'])
        for augment, size in zip(resize_augments(runner.model), state['resize_sizes']):
            augment._input_size = size
