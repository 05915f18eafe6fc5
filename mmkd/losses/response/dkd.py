"""Decoupled knowledge distillation for dense heads."""
from typing import Optional, Sequence, Union

import torch.nn.functional as F
from torch import Tensor

from mmkd.registry import MODELS

from .base import DenseResponseLoss, ResponsePair, check_same_score_factors, check_temperature
from .functional import dkd_terms

TARGETS = ('teacher', 'gt')


@MODELS.register_module()
class DKDLoss(DenseResponseLoss):
    r"""Decoupled KD (Zhao et al., "Decoupled Knowledge Distillation", CVPR 2022).

    Per prior, with ``p = softmax(z / T)`` over the class logits and target
    class ``t``:

    .. math::
        \ell_i = \alpha\,\mathrm{TCKD} + \beta\,\mathrm{NCKD}

    where TCKD is the KL divergence of the binary ``[p_t, 1 - p_t]``
    distributions and NCKD that of the distributions renormalised over the
    non-target classes, both times ``T^2`` (see
    :func:`~mmkd.losses.response.functional.dkd_terms`; classic KD equals
    ``TCKD + (1 - p^T_t) NCKD``).

    Detection adaptations:

    - ``with_background=True`` appends a constant zero logit as a background
      class before the softmax. For a sigmoid head this keeps the softmax
      consistent with the sigmoid when one class dominates
      (``softmax([z, 0])_0 = sigmoid(z)``), makes a single-class head
      well-defined, and lets background priors have a target (background).
      Score factors (YOLOX objectness, FCOS / ATSS centerness) are not part
      of the softmax; distil them with :class:`SigmoidKDLoss`.
    - ``target='teacher'`` takes the teacher's argmax (over classes and
      background) as the target class; ``target='gt'`` takes the class of the
      GT box assigned by centre sampling (see ``center_radius``) on positive
      priors and the teacher's argmax elsewhere.

    Args:
        alpha: weight of TCKD.
        beta: weight of NCKD.
        temperature: ``T``.
        target: ``'teacher'`` or ``'gt'``.
        with_background: append the zero background logit.
        weighting, score_thr, center_radius, loss_weight: see
            :class:`DenseResponseLoss`.
    """

    def __init__(self,
                 alpha: float = 1.0,
                 beta: float = 8.0,
                 temperature: float = 4.0,
                 target: str = 'teacher',
                 with_background: bool = True,
                 weighting: Union[str, Sequence[str]] = 'teacher_score',
                 score_thr: float = 0.0,
                 center_radius: Optional[float] = 2.5,
                 loss_weight: float = 1.0) -> None:
        super().__init__(weighting, score_thr, center_radius, loss_weight)
        if target not in TARGETS:
            raise ValueError(f'target must be one of {TARGETS}, got {target!r}.')
        self.alpha = alpha
        self.beta = beta
        self.temperature = check_temperature(temperature)
        self.target = target
        self.with_background = with_background

    def prior_losses(self, pair: ResponsePair, keep: Tensor) -> Tensor:
        check_same_score_factors(pair)
        student = self._logits(pair.student.cls_logits)
        teacher = self._logits(pair.teacher.cls_logits)
        if student.shape[-1] < 2:
            raise ValueError('DKD needs at least two classes; with one class set '
                             'with_background=True or use SigmoidKDLoss.')
        target = teacher.argmax(-1)
        if self.target == 'gt':
            labels = pair.assignment.labels
            target = target.where(labels < 0, labels)
        tckd, nckd = dkd_terms(student, teacher, target, self.temperature)
        return self.alpha * tckd + self.beta * nckd

    def _logits(self, cls_logits: Tensor) -> Tensor:
        return F.pad(cls_logits, (0, 1)) if self.with_background else cls_logits
