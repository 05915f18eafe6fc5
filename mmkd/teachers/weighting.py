"""How much each teacher of a multi-teacher run counts, per image."""
from typing import Any, Dict, Optional, Sequence

import torch
from torch import Tensor, nn

from mmkd.context import DistillContext
from mmkd.head_outputs import assign_by_centre, parse_dense_outputs
from mmkd.registry import MODELS

Records = Optional[Dict[str, Any]]


class TeacherWeighting(nn.Module):
    """Base class: weights ``w (K, B)`` of ``K`` teachers for each of ``B`` images.

    ``w[:, b] = softmax_k(z[k, b])`` over the teachers active this step
    (all, or the ones a selector picked); inactive teachers get 0. Subclasses
    give the logits ``z``.

    Args:
        num_teachers: ``K`` (filled in by the hook).
    """
    #: Record keys the weighting reads from every teacher.
    required_records: Sequence[str] = ()
    #: Whether :meth:`extra_losses` needs per-teacher losses (``combine='loss'``).
    needs_teacher_losses: bool = False

    def __init__(self, num_teachers: int) -> None:
        super().__init__()
        self.num_teachers = num_teachers

    def forward(self, records: Sequence[Records], teachers: Sequence[nn.Module], active: Tensor,
                ctx: DistillContext) -> Tensor:
        logits = self.logits(records, teachers, ctx).float()
        return logits.masked_fill(~active.to(logits.device)[:, None], float('-inf')).softmax(dim=0)

    def logits(self, records: Sequence[Records], teachers: Sequence[nn.Module], ctx: DistillContext) -> Tensor:
        raise NotImplementedError

    def extra_losses(self, weights: Tensor, teacher_losses: Optional[Tensor]) -> Dict[str, Tensor]:
        """Objectives of learnable weights, added to the distillation losses.

        Args:
            weights: ``(K, B)`` this step's weights (with their gradient).
            teacher_losses: ``(K,)`` each teacher's distillation loss (0 for
                inactive ones), or ``None`` when teachers were combined into
                one target.
        """
        return {}


@MODELS.register_module()
class FixedTeacherWeights(TeacherWeighting):
    """Fixed weights ``w_k`` (normalised; renormalised over the active teachers).

    ``L = sum_k w_k L(S, T_k)``, the classic multi-teacher average (uniform
    by default), e.g. You et al., "Learning from Multiple Teacher Networks",
    KDD 2017.

    Args:
        num_teachers: ``K``.
        weights: one non-negative weight per teacher; ``None`` is uniform.
    """

    def __init__(self, num_teachers: int, weights: Optional[Sequence[float]] = None) -> None:
        super().__init__(num_teachers)
        weights = torch.ones(num_teachers) if weights is None else torch.tensor(weights, dtype=torch.float)
        if weights.shape != (num_teachers, ) or (weights < 0).any() or weights.sum() <= 0:
            raise ValueError(f'weights must be {num_teachers} non-negative numbers (one per teacher), '
                             f'not all zero; got {weights.tolist()}')
        self.register_buffer('log_weights', (weights / weights.sum()).log())

    def logits(self, records: Sequence[Records], teachers: Sequence[nn.Module], ctx: DistillContext) -> Tensor:
        return self.log_weights[:, None].expand(-1, ctx.batch_size)


@MODELS.register_module()
class LearnedTeacherWeights(TeacherWeighting):
    """Weights ``w = softmax(alpha)`` learnt with the student, entropy-regularised.

    The student's loss uses the weights as constants; ``alpha`` trains with
    the student's optimizer on its own scale-free objective
    (``loss_teacher_weights``)::

        l_k = sg(L_k / sum_j w_j L_j)
        L_alpha = sum_k w_k l_k + lambda * sum_k w_k log w_k

    whose optimum is ``w_k ~ exp(-l_k / lambda)``: teachers the student
    follows more easily get more weight, ``lambda`` keeps the others from
    vanishing. Needs per-teacher losses (``combine='loss'``).

    Du et al., "Agree to Disagree: Adaptive Ensemble Knowledge Distillation
    in Gradient Space", NeurIPS 2020 (adaptive teacher weights).

    Args:
        num_teachers: ``K``.
        entropy_weight: ``lambda``.
    """

    needs_teacher_losses = True

    def __init__(self, num_teachers: int, entropy_weight: float = 0.1) -> None:
        super().__init__(num_teachers)
        self.alpha = nn.Parameter(torch.zeros(num_teachers))
        self.entropy_weight = entropy_weight

    def logits(self, records: Sequence[Records], teachers: Sequence[nn.Module], ctx: DistillContext) -> Tensor:
        return self.alpha[:, None].expand(-1, ctx.batch_size)

    def extra_losses(self, weights: Tensor, teacher_losses: Optional[Tensor]) -> Dict[str, Tensor]:
        mean = weights.mean(dim=1)
        losses = teacher_losses.detach().float()
        relative = losses / (mean.detach() * losses).sum().clamp(min=1e-12)
        neg_entropy = (mean * mean.clamp(min=1e-12).log()).sum()
        return dict(loss_teacher_weights=(mean * relative).sum() + self.entropy_weight * neg_entropy)


@MODELS.register_module()
class ConfidenceTeacherWeights(TeacherWeighting):
    """Per-image weights from each teacher's confidence on the ground truth.

    ``c[k, b]`` is teacher ``k``'s mean score of the true class over the priors
    whose centre lies in a GT box of image ``b`` (its head output parsed by
    :func:`mmkd.head_outputs.parse_dense_outputs`); ``w[:, b] = softmax_k(c[k, b] / tau)``.
    Images without GT give equal weights.

    Zhang et al., "Confidence-Aware Multi-Teacher Knowledge Distillation",
    ICASSP 2022.

    Args:
        num_teachers: ``K``.
        temperature: ``tau``; small values favour the most confident teacher.
        center_radius: centre-sampling radius in strides (``None``: whole box).
    """
    required_records = ('bbox_head', )

    def __init__(self, num_teachers: int, temperature: float = 0.1, center_radius: Optional[float] = 2.5) -> None:
        super().__init__(num_teachers)
        if temperature <= 0:
            raise ValueError(f'temperature must be > 0, got {temperature}')
        self.temperature = temperature
        self.center_radius = center_radius

    def logits(self, records: Sequence[Records], teachers: Sequence[nn.Module], ctx: DistillContext) -> Tensor:
        rows = [self.confidence(r['bbox_head'], t.bbox_head, ctx) if r is not None
                else ctx.inputs.new_zeros(ctx.batch_size) for r, t in zip(records, teachers)]
        return torch.stack(rows) / self.temperature

    def confidence(self, head_outputs: Sequence, head: nn.Module, ctx: DistillContext) -> Tensor:
        """``(B,)`` mean true-class score over the GT priors of each image."""
        outputs = parse_dense_outputs(head, head_outputs)
        assigned = assign_by_centre(outputs.prior_centers(), outputs.strides, ctx.ground_truth,
                                    self.center_radius)
        scores = outputs.scores().gather(-1, assigned.labels.clamp(min=0).unsqueeze(-1)).squeeze(-1)
        positive = assigned.positive.float()
        return (scores * positive).sum(1) / positive.sum(1).clamp(min=1)
