"""IoU-based localisation distillation of BCKD."""
from typing import Optional, Sequence, Union

from torch import Tensor

from mmkd.registry import MODELS

from .base import ResponsePair, positive_count
from .box_kd import BoxKDLoss


@MODELS.register_module()
class BCKDIoULoss(BoxKDLoss):
    r"""IoU-based localisation distillation (L. Yang et al., "Bridging
    Cross-task Protocol Inconsistency for Distillation in Dense Object
    Detection", ICCV 2023).

    Box regression outputs differ in form between heads (distances,
    distributions, deltas), so BCKD compares the decoded boxes by their IoU,
    which is also what the detector is judged by, and weights each prior by
    how much student and teacher disagree on its classes:

    .. math::
        \mathcal{L} = \frac{\lambda}{N_{pos}} \sum_i w_i
            \big(1 - \mathrm{IoU}(b^S_i, b^T_i)\big),
        \qquad w_i = \max_c |q_{ic} - p_{ic}|

    over every prior (``weighting='discrepancy'``, no score threshold),
    divided by the number of positive priors ``N_pos`` (at least 1). Boxes
    are decoded by each head's own decoder on the shared priors.

    Sources of the defaults: the weight ``max_c |q - p|`` and the
    normalisation by the positives follow the authors' code
    (github.com/TinyTigerPan/BCKD, ``ld_head.py``), whose configs weight the
    term 4.0; that code uses ``GIoULoss`` where the paper writes IoU, so
    ``iou_mode='iou'`` here and ``'giou'`` reproduces the code. Positives are
    mmkd's GT-centre positives, not the ATSS assigner's. Not verified against
    the paper's text: the exact weight and the 4.0.

    Args:
        iou_mode: ``'iou'`` (paper) or ``'giou'`` (authors' code).
        weighting, score_thr, center_radius, loss_weight: see
            :class:`~mmkd.losses.response.DenseResponseLoss`.
    """

    def __init__(self,
                 iou_mode: str = 'iou',
                 weighting: Union[str, Sequence[str]] = 'discrepancy',
                 score_thr: float = 0.0,
                 center_radius: Optional[float] = 2.5,
                 loss_weight: float = 1.0) -> None:
        super().__init__(iou_mode, iou_weight=1.0, l1_weight=0.0, weighting=weighting, score_thr=score_thr,
                         center_radius=center_radius, loss_weight=loss_weight)

    def normaliser(self, pair: ResponsePair, weights: Tensor) -> Tensor:
        return positive_count(pair)
