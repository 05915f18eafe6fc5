"""Teacher selection as a multi-armed bandit: which teachers teach this step."""
import math
from typing import Any

import torch
from torch import Tensor, nn

from mmkd.registry import MODELS


def improvement_reward(before: float, after: float, scale: float = 0.01) -> float:
    """Reward in ``(0, 1)`` for a relative decrease of the student's loss.

    ``r = sigmoid((before - after) / (|before| * scale))``: 0.5 when the loss
    is unchanged, about 0.73 for a decrease of ``scale`` (1 % by default).
    """
    relative = (before - after) / max(abs(before), 1e-12)
    return 1.0 / (1.0 + math.exp(-max(min(relative / scale, 50.0), -50.0)))


class TeacherSelector(nn.Module):
    """Base class: ``select()`` a boolean mask of teachers, then ``update(mask, reward)``.

    The state lives in buffers (and the random generator in the module's
    extra state), so ``state_dict()`` saves and resumes it.

    Args:
        num_teachers: ``K`` (filled in by the hook).
        num_select: teachers picked per step.
    """

    def __init__(self, num_teachers: int, num_select: int = 1) -> None:
        super().__init__()
        if not 1 <= num_select <= num_teachers:
            raise ValueError(f'num_select must be in [1, {num_teachers}], got {num_select}')
        self.num_teachers = num_teachers
        self.num_select = num_select

    def select(self) -> Tensor:
        raise NotImplementedError

    def update(self, chosen: Tensor, reward: float) -> None:
        raise NotImplementedError

    def _mask(self, indices: Tensor) -> Tensor:
        mask = torch.zeros(self.num_teachers, dtype=torch.bool)
        mask[indices] = True
        return mask


@MODELS.register_module()
class EXP3TeacherSelector(TeacherSelector):
    """EXP3: exponential weights for adversarial bandits, one teacher per step.

    ``p_k = (1 - gamma) * w_k / sum_j w_j + gamma / K``; teacher ``k ~ p`` teaches;
    its reward ``r`` in ``[0, 1]`` updates ``w_k <- w_k * exp(gamma * r / (p_k * K))``
    (importance-weighted, so unpicked teachers are not penalised). Rewards may
    drift as the student learns; EXP3 makes no stationarity assumption.

    Auer et al., "The Nonstochastic Multiarmed Bandit Problem", SIAM J.
    Computing 2002.

    Args:
        num_teachers: ``K``.
        gamma: exploration rate in ``(0, 1]``.
        seed: seed of the selector's own random generator (the same on every
            rank, so every rank picks the same teacher).
    """

    def __init__(self, num_teachers: int, gamma: float = 0.1, seed: int = 0) -> None:
        super().__init__(num_teachers, num_select=1)
        if not 0 < gamma <= 1:
            raise ValueError(f'gamma must be in (0, 1], got {gamma}')
        self.gamma = gamma
        self.generator = torch.Generator().manual_seed(seed)
        self.register_buffer('log_weights', torch.zeros(num_teachers, dtype=torch.float64))
        self.register_buffer('last_probs', torch.full((num_teachers, ), 1.0 / num_teachers, dtype=torch.float64))

    def probabilities(self) -> Tensor:
        weights = (self.log_weights - self.log_weights.max()).exp()
        return (1 - self.gamma) * weights / weights.sum() + self.gamma / self.num_teachers

    def select(self) -> Tensor:
        probs = self.probabilities()
        self.last_probs.copy_(probs)
        return self._mask(torch.multinomial(probs.float(), 1, generator=self.generator))

    def update(self, chosen: Tensor, reward: float) -> None:
        estimate = reward / self.last_probs[chosen]
        self.log_weights[chosen] += self.gamma * estimate / self.num_teachers

    def get_extra_state(self) -> Any:
        return self.generator.get_state()

    def set_extra_state(self, state: Any) -> None:
        self.generator.set_state(state)


@MODELS.register_module()
class UCBTeacherSelector(TeacherSelector):
    """UCB1: pick the teachers with the highest upper confidence bound.

    ``index_k = mean_reward_k + c * sqrt(2 ln t / n_k)``, every teacher tried
    once first; the ``num_select`` highest indices teach. Deterministic; assumes
    roughly stationary rewards.

    Auer et al., "Finite-time Analysis of the Multiarmed Bandit Problem",
    Machine Learning 2002.

    Args:
        num_teachers: ``K``.
        num_select: teachers picked per step.
        exploration: ``c``.
    """

    def __init__(self, num_teachers: int, num_select: int = 1, exploration: float = 1.0) -> None:
        super().__init__(num_teachers, num_select)
        self.exploration = exploration
        self.register_buffer('counts', torch.zeros(num_teachers, dtype=torch.float64))
        self.register_buffer('reward_sums', torch.zeros(num_teachers, dtype=torch.float64))

    def select(self) -> Tensor:
        total = self.counts.sum().clamp(min=1)
        bonus = self.exploration * (2 * total.log() / self.counts.clamp(min=1)).sqrt()
        index = self.reward_sums / self.counts.clamp(min=1) + bonus
        index = index.masked_fill(self.counts == 0, float('inf'))
        return self._mask(index.topk(self.num_select).indices)

    def update(self, chosen: Tensor, reward: float) -> None:
        self.counts[chosen] += 1
        self.reward_sums[chosen] += reward
