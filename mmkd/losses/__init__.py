"""Distillation losses, one package per family: ``feature``, ``response``."""
from . import feature, response  # noqa: F401  (registers the loss families)
from .base import DistillLoss
from .feature import FeatureMSELoss
from .response import KDLoss

__all__ = ['DistillLoss', 'FeatureMSELoss', 'KDLoss']
