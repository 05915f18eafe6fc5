from . import feature, response  # noqa: F401  (registers the loss families)
from .base import DistillLoss
from .feature_mse import FeatureMSELoss
from .kd_loss import KDLoss

__all__ = ['DistillLoss', 'FeatureMSELoss', 'KDLoss']
