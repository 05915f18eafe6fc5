"""How strongly distillation counts at a given point of training."""
from typing import Optional


class LossWeightSchedule:
    """Multiplier of every distillation loss over training.

    ``factor = min(1, (iter + 1) / warmup_iters)`` during a linear warm-up, 1
    afterwards, and 0 from ``stop_epoch`` or ``stop_iter`` on (RTMDet-style
    recipes stop distilling for their last epochs). At 0 the teacher does not
    run at all.

    Args:
        warmup_iters: iterations of linear warm-up (0: none).
        stop_epoch: first epoch (0-based, as ``runner.epoch``) without distillation.
        stop_iter: first iteration (0-based, as ``runner.iter``) without distillation.
    """

    def __init__(self, warmup_iters: int = 0, stop_epoch: Optional[int] = None,
                 stop_iter: Optional[int] = None) -> None:
        if warmup_iters < 0:
            raise ValueError(f'schedule.warmup_iters must be >= 0, got {warmup_iters}')
        self.warmup_iters = warmup_iters
        self.stop_epoch = stop_epoch
        self.stop_iter = stop_iter

    def factor(self, iteration: int, epoch: int) -> float:
        if self.stop_iter is not None and iteration >= self.stop_iter:
            return 0.0
        if self.stop_epoch is not None and epoch >= self.stop_epoch:
            return 0.0
        if self.warmup_iters:
            return min(1.0, (iteration + 1) / self.warmup_iters)
        return 1.0
