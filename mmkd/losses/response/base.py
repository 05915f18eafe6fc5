"""Shared machinery of the response (head output) distillation losses."""
from dataclasses import dataclass
from functools import cached_property
from typing import Optional, Sequence, Tuple, Union

from torch import Tensor

from mmkd.context import DistillContext
from mmkd.head_outputs import CentreAssignment, DenseOutputs, assign_by_centre, pair_dense_outputs
from mmkd.losses.base import DistillLoss

WEIGHTINGS = ('all', 'teacher_score', 'positive', 'discrepancy')


@dataclass
class ResponsePair:
    """Student and (detached) teacher outputs of one step, paired per prior."""
    student: DenseOutputs
    teacher: DenseOutputs
    ctx: DistillContext
    center_radius: Optional[float]

    @cached_property
    def assignment(self) -> CentreAssignment:
        """Priors whose centre falls in a GT box (and its centre region)."""
        return assign_by_centre(self.student.prior_centers(), self.student.strides,
                                self.ctx.ground_truth, self.center_radius)


class DenseResponseLoss(DistillLoss):
    r"""Base of losses on a dense head's outputs, paired prior by prior.

    ``forward(student, teacher, ctx)`` takes the recorded outputs of a dense
    head (``bbox_head`` of a single-stage detector, ``rpn_head`` of a
    two-stage one), parses them with the head modules at the entry's paths
    (refusing heads that do not share priors or ``num_classes``), weights
    every prior, and returns

    .. math::
        \mathcal{L} = \lambda \frac{\sum_i w_i \ell_i}{\max(1, \sum_i w_i)}

    where ``l_i`` is the subclass's per-prior loss. Dense class losses compute
    it everywhere (it is finite); box losses only where ``w_i > 0`` (the
    student's boxes elsewhere may be degenerate).

    Args:
        weighting: where to distil; one name or a sequence of names whose
            factors multiply: ``'all'`` (1 everywhere), ``'teacher_score'``
            (teacher's best detection score, i.e. class probability times
            the score factor of YOLOX / FCOS / ATSS, zeroed at or below
            ``score_thr``), ``'positive'`` (1 where the prior centre
            lies in a GT box and within ``center_radius`` strides of its
            centre, else 0) or ``'discrepancy'`` (largest absolute difference
            between teacher and student class scores).
        score_thr: threshold of the ``'teacher_score'`` factor.
        center_radius: centre region of ``'positive'`` in strides; ``None``
            uses the whole GT box.
        loss_weight: multiplier ``lambda`` of the loss.
    """
    compares_classes = True

    def __init__(self,
                 weighting: Union[str, Sequence[str]] = 'teacher_score',
                 score_thr: float = 0.0,
                 center_radius: Optional[float] = 2.5,
                 loss_weight: float = 1.0) -> None:
        super().__init__(loss_weight)
        self.weighting: Tuple[str, ...] = (weighting, ) if isinstance(weighting, str) else tuple(weighting)
        unknown = [name for name in self.weighting if name not in WEIGHTINGS]
        if unknown or not self.weighting:
            raise ValueError(f'weighting must name some of {WEIGHTINGS}, got {weighting!r}.')
        self.score_thr = score_thr
        self.center_radius = center_radius

    def forward(self, student: Sequence, teacher: Sequence, ctx: DistillContext) -> Tensor:
        pair = ResponsePair(*pair_dense_outputs(ctx.student.get_submodule(self.student_path), student,
                                                ctx.teacher.get_submodule(self.teacher_path), teacher),
                            ctx=ctx, center_radius=self.center_radius)
        weights = self.prior_weights(pair).detach()
        losses = self.prior_losses(pair, weights > 0)
        return self.loss_weight * (losses * weights).sum() / self.normaliser(pair, weights)

    def normaliser(self, pair: ResponsePair, weights: Tensor) -> Tensor:
        """Divisor of the weighted sum: the total weight, at least 1."""
        return weights.sum().clamp(min=1.0)

    def prior_weights(self, pair: ResponsePair) -> Tensor:
        """``(B, N)`` non-negative weight of every prior."""
        weights = self._factor(self.weighting[0], pair)
        for name in self.weighting[1:]:
            weights = weights * self._factor(name, pair)
        return weights

    def prior_losses(self, pair: ResponsePair, keep: Tensor) -> Tensor:
        """``(B, N)`` loss of each prior; it only matters where the ``(B, N)``
        mask ``keep`` (positive weight) is True and must be finite elsewhere."""
        raise NotImplementedError

    def _factor(self, name: str, pair: ResponsePair) -> Tensor:
        if name == 'teacher_score':
            scores = pair.teacher.scores().amax(-1)
            return scores * (scores > self.score_thr)
        if name == 'positive':
            return pair.assignment.positive.to(pair.student.bbox_preds.dtype)
        if name == 'discrepancy':
            return (pair.teacher.scores() - pair.student.scores()).abs().amax(-1)
        return pair.student.bbox_preds.new_ones(pair.student.batch_size, pair.student.num_priors)  # 'all'


def positive_count(pair: ResponsePair) -> Tensor:
    """Number of GT-centre positive priors in the batch, at least 1 (a
    normaliser that does not depend on the prior weights)."""
    return pair.assignment.positive.sum().float().clamp(min=1.0)


def check_temperature(temperature: float) -> float:
    """``temperature`` if it is positive, else a ``ValueError``."""
    if temperature <= 0:
        raise ValueError(f'temperature must be positive, got {temperature}.')
    return temperature


def scatter_kept(values: Tensor, keep: Tensor) -> Tensor:
    """``(K,)`` losses of the kept priors -> ``(B, N)`` with zeros elsewhere."""
    return values.new_zeros(keep.shape).masked_scatter(keep, values)


def check_same_score_factors(pair: ResponsePair) -> None:
    """Class logits only pair up when both heads have a score factor (objectness,
    centerness) or neither does: with one, the score is class times factor."""
    if (pair.student.score_factors is None) != (pair.teacher.score_factors is None):
        raise ValueError(
            'Class logits of a head with a score factor (YOLOX objectness, FCOS / ATSS '
            'centerness; score = class x factor) and one without do not pair: student '
            f'{type(pair.student.head).__name__}, teacher {type(pair.teacher.head).__name__}.')
