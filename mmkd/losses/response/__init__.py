"""Response distillation: losses on the outputs of dense and RoI detection heads."""
from .base import DenseResponseLoss, ResponsePair
from .bckd_cls import BCKDClsLoss
from .bckd_iou import BCKDIoULoss
from .box_kd import BoxKDLoss
from .dkd import DKDLoss
from .kd import KDLoss
from .ld import LDLoss
from .roi_kd import RoIKDLoss
from .sigmoid_kd import SigmoidKDLoss

__all__ = [
    'DenseResponseLoss', 'ResponsePair', 'KDLoss', 'SigmoidKDLoss', 'DKDLoss', 'BoxKDLoss', 'LDLoss', 'RoIKDLoss',
    'BCKDClsLoss', 'BCKDIoULoss'
]
