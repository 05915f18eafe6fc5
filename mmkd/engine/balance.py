"""Automatic loss balance: each distillation term at a fixed share of the detection loss.

``DistillationHook(..., balance=dict(target_ratio=r, iters=N))`` measures,
over the first ``N`` distilling training iterations, every distillation term
``L_k`` (as its loss returns it, before the schedule's factor) and the
student's detection loss ``D`` (the sum of the student's own losses, as
MMEngine's ``parse_losses`` sums them), then fixes once for the rest of
training::

    scale_k = r * sum_i D_i / sum_i L_k,i        (i: the N measured iterations)

so that ``scale_k * L_k`` is ``r`` times the detection loss on average over
the measurement. The loss's own ``loss_weight`` cancels out: only the loss's
internal proportions (for example its objectness weight) and ``r`` matter.
Each term gets the same ``r`` unless ``ratios`` names its own for it
(``ratios=dict(loss_neck_fgd=0.3)``, keys as the log names the terms): with
two entries at ``r`` the distillation total is ``2 r`` times the detection
loss.

While measuring, the terms are weighted **zero**: they stay in the loss dict
(so adapters and DDP see their parameters used) but give no gradient. A term
whose magnitude is not yet known is exactly what the balance exists to keep
from steering the student: one at 100 times the detection loss would train
the first iterations on distillation alone. The measured magnitudes are thus
those of the student and adapters before any distillation.

Under DDP the sums are all-reduced (``mmengine.dist.all_reduce``) before the
scales are fixed, so every rank fixes the same scales from every rank's
batches. :meth:`state_dict` holds the partial sums and the fixed scales, so a
resumed run neither re-measures nor loses a measurement in progress.
"""
from typing import Dict, List, Optional, Tuple

import torch
from mmengine.dist import all_reduce
from mmengine.logging import print_log
from torch import Tensor


class LossBalance:
    """Measure distillation terms against the detection loss, then scale them.

    Args:
        target_ratio: wanted mean of ``term / detection loss`` per term (> 0).
        iters: distilling training iterations to measure over (>= 1).
        ratios: ``{term: ratio}`` for the terms that take another ratio than ``target_ratio`` (each > 0).
    """

    def __init__(self, target_ratio: float, iters: int, ratios: Optional[Dict[str, float]] = None) -> None:
        for name, ratio in {'target_ratio': target_ratio, **{f'ratios.{key}': value
                                                             for key, value in (ratios or {}).items()}}.items():
            if not ratio > 0:
                raise ValueError(f'balance.{name} must be > 0, got {ratio}')
        if int(iters) != iters or iters < 1:
            raise ValueError(f'balance.iters must be an integer >= 1, got {iters}')
        self.target_ratio = float(target_ratio)
        self.ratios = {key: float(value) for key, value in (ratios or {}).items()}
        self.iters = int(iters)
        self.measured = 0
        self.detection_sum = 0.0
        self.term_sums: Dict[str, float] = {}
        self.scales: Optional[Dict[str, float]] = None

    @property
    def fixed(self) -> bool:
        return self.scales is not None

    def __call__(self, losses: Dict[str, Tensor], detection_loss: Tensor) -> Dict[str, Tensor]:
        """``losses`` scaled: zero while measuring, by the fixed scales afterwards."""
        if self.fixed:
            return self._scaled(losses)
        self._observe(losses, detection_loss)
        if self.measured == self.iters:
            self._fix()
        return {key: value * 0.0 for key, value in losses.items()}

    def _observe(self, losses: Dict[str, Tensor], detection_loss: Tensor) -> None:
        if self.term_sums and set(losses) != set(self.term_sums):
            raise KeyError(f'mmkd balance: the distillation terms changed while measuring, '
                           f'{sorted(self.term_sums)} -> {sorted(losses)}')
        for key, value in losses.items():
            self.term_sums[key] = self.term_sums.get(key, 0.0) + float(value.detach())
        self.detection_sum += float(detection_loss.detach())
        self.measured += 1

    def _fix(self) -> None:
        keys = sorted(self.term_sums)
        detection_sum, term_sums, count = self._reduced_sums(keys)
        zero = [key for key, total in zip(keys, term_sums) if total <= 0]
        if zero or detection_sum <= 0:
            raise ValueError(f'mmkd balance: cannot scale {zero or "the detection loss"}: its mean over '
                             f'the first {self.iters} iterations is not positive')
        unknown = sorted(set(self.ratios) - set(keys))
        if unknown:
            raise KeyError(f'mmkd balance: balance.ratios names {unknown}, which are no distillation terms; '
                           f'the terms are {keys}')
        ratios = {key: self.ratios.get(key, self.target_ratio) for key in keys}
        self.scales = {key: ratios[key] * detection_sum / total for key, total in zip(keys, term_sums)}
        means = ', '.join(f'{key} {total / count:.4g} -> x{self.scales[key]:.4g} ({ratios[key]:g} x detection)'
                          for key, total in zip(keys, term_sums))
        print_log(f'mmkd balance: over {count:.0f} iterations (all ranks) the detection loss averaged '
                  f'{detection_sum / count:.4g}; scales fixed: {means}', logger='current')

    def _reduced_sums(self, keys: List[str]) -> Tuple[float, List[float], float]:
        """``(detection sum, term sums in ``keys`` order, iteration count)`` over all ranks."""
        sums = torch.tensor([self.detection_sum, *(self.term_sums[key] for key in keys), self.measured],
                            dtype=torch.float64)
        all_reduce(sums, op='sum')
        values = sums.tolist()
        return values[0], values[1:-1], values[-1]

    def _scaled(self, losses: Dict[str, Tensor]) -> Dict[str, Tensor]:
        unknown = sorted(set(losses) - set(self.scales))
        if unknown:
            raise KeyError(f'mmkd balance: no scale for {unknown}; it was not measured in the first '
                           f'{self.iters} iterations (measured: {sorted(self.scales)})')
        return {key: value * self.scales[key] for key, value in losses.items()}

    def state_dict(self) -> dict:
        return dict(measured=self.measured, detection_sum=self.detection_sum,
                    term_sums=dict(self.term_sums), scales=None if self.scales is None else dict(self.scales))

    def load_state_dict(self, state: dict) -> None:
        self.measured = state['measured']
        self.detection_sum = state['detection_sum']
        self.term_sums = dict(state['term_sums'])
        self.scales = None if state['scales'] is None else dict(state['scales'])
