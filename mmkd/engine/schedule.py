"""How strongly distillation counts at a given point of training."""
from typing import Optional


class LossWeightSchedule:
    """Multiplier of every distillation loss over training.

    0 before ``start_iter``, ``factor = min(1, (iter - start_iter + 1) /
    warmup_iters)`` during a linear warm-up from there, 1 afterwards, and 0
    from ``stop_epoch`` or ``stop_iter`` on (RTMDet-style recipes stop
    distilling for their last epochs). At 0 the teacher does not run at all.

    Args:
        warmup_iters: iterations of linear warm-up (0: none).
        start_iter: first iteration (0-based, as ``runner.iter``) that distils;
            a snapshot teacher starts at its first snapshot, the end of the
            first cycle (Yang et al., CVPR 2019, train that cycle alone).
        stop_epoch: first epoch (0-based, as ``runner.epoch``) without distillation.
        stop_iter: first iteration (0-based, as ``runner.iter``) without distillation.
    """

    def __init__(self, warmup_iters: int = 0, start_iter: int = 0, stop_epoch: Optional[int] = None,
                 stop_iter: Optional[int] = None) -> None:
        for key, value in (('warmup_iters', warmup_iters), ('start_iter', start_iter)):
            if value < 0:
                raise ValueError(f'schedule.{key} must be >= 0, got {value}')
        self.warmup_iters = warmup_iters
        self.start_iter = start_iter
        self.stop_epoch = stop_epoch
        self.stop_iter = stop_iter

    def factor(self, iteration: int, epoch: int) -> float:
        if self.stop_iter is not None and iteration >= self.stop_iter:
            return 0.0
        if self.stop_epoch is not None and epoch >= self.stop_epoch:
            return 0.0
        if iteration < self.start_iter:
            return 0.0
        if self.warmup_iters:
            return min(1.0, (iteration - self.start_iter + 1) / self.warmup_iters)
        return 1.0
