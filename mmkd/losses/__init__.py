"""Distillation losses, one package per family: ``feature``, ``response``, ``relation``,
``adversarial``."""
from . import adversarial, feature, relation, response  # noqa: F401  (registers the loss families)
from .base import DistillLoss
from .feature import FeatureMSELoss
from .response import KDLoss

__all__ = ['DistillLoss', 'FeatureMSELoss', 'KDLoss']
