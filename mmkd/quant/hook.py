"""``mmkd.QuantObserverHook``: when the observers of a QAT run update their ranges."""
from typing import Any, Optional

from mmengine.hooks import Hook

from mmkd.registry import HOOKS
from mmkd.utils.modules import unwrap

from .modules import QuantConv2d, set_observers


@HOOKS.register_module()
class QuantObserverHook(Hook):
    """Observers update during training iterations only.

    Ranges follow the training batches while the student learns; validation,
    the distillation hook's set-up probe (a zero batch) and tests never move
    them. After ``freeze_iter`` iterations they stay fixed for good, so the
    last part of QAT fine-tunes the weights to fixed ranges. The enable flags
    are buffers of the model, so a resumed run continues exactly.

    Args:
        freeze_iter: the iteration from which ranges stay fixed (``None``:
            they update until the end).
    """

    priority = 'NORMAL'

    def __init__(self, freeze_iter: Optional[int] = None) -> None:
        self.freeze_iter = freeze_iter
        self._observing = False

    def before_train_iter(self, runner, batch_idx: int, data_batch: Any = None) -> None:
        self._observing = self.freeze_iter is None or runner.iter < self.freeze_iter
        set_observers(unwrap(runner.model), self._observing)

    def after_train_iter(self, runner, batch_idx: int, data_batch: Any = None, outputs: Any = None) -> None:
        """Freeze the ranges; weight ranges first follow this step's update, so
        a checkpoint's (and the export's) weight scales describe its weights."""
        model = unwrap(runner.model)
        if self._observing:
            for module in model.modules():
                if isinstance(module, QuantConv2d):
                    module.observe_weight()
        set_observers(model, False)
