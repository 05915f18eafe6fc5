"""Localisation distillation for heads that predict edge distributions."""
from typing import Optional, Sequence, Union

from torch import Tensor

from mmkd.head_outputs import pairwise_diou
from mmkd.registry import MODELS

from ..functional import softmax_kd
from .base import DenseResponseLoss, ResponsePair, check_temperature, scatter_kept


@MODELS.register_module()
class LDLoss(DenseResponseLoss):
    r"""Localization Distillation (Zheng et al., "Localization Distillation
    for Dense Object Detection", CVPR 2022).

    GFL-style heads predict, for each box edge ``e`` in ``{l, t, r, b}``, logits
    over ``reg_max + 1`` distance bins. LD softens both with temperature
    ``T`` and matches them:

    .. math::
        \ell_i = \frac{T^2}{4} \sum_{e} \mathrm{KL}\big(
            \mathrm{softmax}(z^T_{ie} / T)\ \|\ \mathrm{softmax}(z^S_{ie} / T)\big)

    Regions: the main distillation region is given by ``weighting``
    (default ``'positive'``: priors whose centre lies in a GT box). The
    valuable localisation region (VLR) adds, with weight ``vlr_weight``, the
    priors outside the main region whose anchor has Distance-IoU with some GT
    box of at least ``vlr_thr``. The paper bounds the VLR by a fraction of the
    assigner's adaptive positive IoU threshold; here it is the fixed
    ``vlr_thr`` below the GT-centre positives.

    Args:
        temperature: ``T`` (the paper uses 10).
        vlr_weight: weight of the VLR priors; 0 disables the VLR.
        vlr_thr: lowest anchor-GT DIoU of a VLR prior.
        weighting, score_thr, center_radius, loss_weight: see
            :class:`DenseResponseLoss`.
    """

    def __init__(self,
                 temperature: float = 10.0,
                 vlr_weight: float = 1.0,
                 vlr_thr: float = 0.125,
                 weighting: Union[str, Sequence[str]] = 'positive',
                 score_thr: float = 0.0,
                 center_radius: Optional[float] = 2.5,
                 loss_weight: float = 1.0) -> None:
        super().__init__(weighting, score_thr, center_radius, loss_weight)
        self.temperature = check_temperature(temperature)
        self.vlr_weight = vlr_weight
        self.vlr_thr = vlr_thr

    def prior_weights(self, pair: ResponsePair) -> Tensor:
        _check_distributions(pair)
        weights = super().prior_weights(pair)
        if self.vlr_weight == 0:
            return weights
        return weights + self.vlr_weight * self._vlr(pair) * (weights == 0)

    def prior_losses(self, pair: ResponsePair, keep: Tensor) -> Tensor:
        student, teacher = pair.student.edge_logits(keep), pair.teacher.edge_logits(keep)
        return scatter_kept(softmax_kd(student, teacher, self.temperature).mean(-1), keep)

    def _vlr(self, pair: ResponsePair) -> Tensor:
        """``(B, N)`` 1 where the anchor's best DIoU with a GT is ``>= vlr_thr``."""
        gt = pair.ctx.ground_truth
        if gt.bboxes.shape[1] == 0:
            return pair.student.bbox_preds.new_zeros(pair.student.batch_size, pair.student.num_priors)
        diou = pairwise_diou(pair.student.priors, gt).amax(-1)
        return (diou >= self.vlr_thr).to(pair.student.bbox_preds.dtype)


def _check_distributions(pair: ResponsePair) -> None:
    student, teacher = pair.student.reg_max, pair.teacher.reg_max
    if student is None or student != teacher:
        raise ValueError(
            'LD needs edge-distribution heads (GFLHead) with the same reg_max, got student '
            f'{type(pair.student.head).__name__} (reg_max={student}) and teacher '
            f'{type(pair.teacher.head).__name__} (reg_max={teacher}).')
