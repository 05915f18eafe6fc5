"""Binary classification distillation of BCKD."""
from typing import Optional, Sequence, Union

from torch import Tensor

from mmkd.registry import MODELS

from .base import ResponsePair, positive_count
from .sigmoid_kd import SigmoidKDLoss


@MODELS.register_module()
class BCKDClsLoss(SigmoidKDLoss):
    r"""Binary classification distillation (L. Yang et al., "Bridging
    Cross-task Protocol Inconsistency for Distillation in Dense Object
    Detection", ICCV 2023).

    A sigmoid detector scores each class as its own binary problem, so BCKD
    distils each class score with a binary cross entropy toward the
    teacher's probability, modulated by their gap:

    .. math::
        \mathcal{L} = \frac{\lambda}{N_{pos}} \sum_i \sum_c
            |q_{ic} - p_{ic}|^{\beta}\, \mathrm{BCE}(p_{ic}, q_{ic}),
        \quad p = \sigma(z^S),\ q = \sigma(z^T)

    over every prior ``i`` of the batch (``weighting='all'``), divided by the
    number of positive priors ``N_pos`` (at least 1) rather than by the total
    prior weight. The score factor (YOLOX objectness, FCOS/ATSS centerness) gets
    the same term (``score_factor_weight``).

    Sources of the defaults: ``beta=1`` and ``T=1`` (no temperature) are
    those of the authors' code (``NovelKDLoss`` in
    github.com/TinyTigerPan/BCKD); its configs weight the term 1.0. The
    paper's positives are the ATSS assigner's; here they are the GT-centre
    positives of ``center_radius`` (mmkd's assigner-free stand-in), so the
    normaliser differs from the paper's. Not verified against the paper's
    text: whether it states ``beta`` (the code's is used).

    Args:
        beta: exponent of the gap ``|q - p|``.
        temperature, class_weight, score_factor_weight, weighting, score_thr,
            center_radius, loss_weight: see :class:`SigmoidKDLoss`.
    """

    def __init__(self,
                 beta: float = 1.0,
                 temperature: float = 1.0,
                 class_weight: float = 1.0,
                 score_factor_weight: float = 1.0,
                 weighting: Union[str, Sequence[str]] = 'all',
                 score_thr: float = 0.0,
                 center_radius: Optional[float] = 2.5,
                 loss_weight: float = 1.0) -> None:
        super().__init__(temperature, beta, class_weight, score_factor_weight, weighting, score_thr, center_radius,
                         loss_weight)

    def normaliser(self, pair: ResponsePair, weights: Tensor) -> Tensor:
        return positive_count(pair)
