"""Sigmoid-aware classification distillation for dense heads."""
from typing import Optional, Sequence, Union

from torch import Tensor

from mmkd.registry import MODELS

from .base import DenseResponseLoss, ResponsePair, check_same_score_factors, check_temperature
from .functional import binary_kd


@MODELS.register_module()
class SigmoidKDLoss(DenseResponseLoss):
    r"""Per-class binary KD for sigmoid heads (YOLOX, RTMDet, FCOS, ATSS, RetinaNet, GFL).

    Every class channel is its own binary classifier, so the soft target of
    class ``c`` at prior ``i`` is ``q = sigmoid(z_T / T)`` and

    .. math::
        \ell_i = \lambda_{cls}\, T^2 \sum_c |q_{ic} - p_{ic}|^{\beta}\,
                 \mathrm{BCE}(p_{ic}, q_{ic})
                 + \lambda_{f}\, T^2 |q^f_i - p^f_i|^{\beta}\,
                 \mathrm{BCE}(p^f_i, q^f_i),
        \quad p = \sigma(z_S / T)

    the second term only for heads with a score factor (YOLOX objectness,
    FCOS / ATSS centerness), where ``p^f, q^f`` are the tempered score-factor
    probabilities. The BCE form
    follows the binary-classification KD of Yang et al., "Bridging
    Cross-task Protocol Inconsistency for Distillation in Dense Object
    Detection" (ICCV 2023); unlike softmax KD it stays meaningful for a single
    class. The optional focal factor ``|q - p|^beta`` is the quality focal
    loss modulation (Li et al., "Generalized Focal Loss", NeurIPS 2020). The
    loss is not zero when the student matches (it equals the teacher's binary
    entropy there); its gradient is.

    Args:
        temperature: ``T``.
        beta: focal exponent; ``None`` disables the factor.
        class_weight: ``lambda_cls`` of the class term (0 with
            ``score_factor_weight > 0`` distils the score factor alone).
        score_factor_weight: ``lambda_f`` of the score-factor term.
        weighting, score_thr, center_radius, loss_weight: see
            :class:`DenseResponseLoss`; the same prior weights apply to the
            class and score-factor terms.
    """

    def __init__(self,
                 temperature: float = 1.0,
                 beta: Optional[float] = None,
                 class_weight: float = 1.0,
                 score_factor_weight: float = 1.0,
                 weighting: Union[str, Sequence[str]] = 'teacher_score',
                 score_thr: float = 0.0,
                 center_radius: Optional[float] = 2.5,
                 loss_weight: float = 1.0) -> None:
        super().__init__(weighting, score_thr, center_radius, loss_weight)
        self.temperature = check_temperature(temperature)
        self.beta = beta
        self.class_weight = class_weight
        self.score_factor_weight = score_factor_weight

    def prior_losses(self, pair: ResponsePair, keep: Tensor) -> Tensor:
        check_same_score_factors(pair)
        student, teacher = pair.student, pair.teacher
        losses = self.class_weight * self._binary_kd(student.cls_logits, teacher.cls_logits).sum(-1)
        if student.score_factors is not None:
            losses = losses + self.score_factor_weight * self._binary_kd(
                student.score_factors, teacher.score_factors)
        return losses

    def _binary_kd(self, student_logits: Tensor, teacher_logits: Tensor) -> Tensor:
        return binary_kd(student_logits, teacher_logits, self.temperature, self.beta)
