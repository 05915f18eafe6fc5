"""mmkd: knowledge distillation for MMDetection 3.x detectors.

Importing the package registers its hooks, losses, masks and adapters in the
``mmkd`` registry scope and makes MMEngine checkpoints loadable on
``torch>=2.6`` (see :mod:`mmkd.utils.safe_load`).
"""
from .utils.safe_load import allow_mmengine_checkpoints

allow_mmengine_checkpoints()

from . import adapters, hooks, losses, masks  # noqa: E402,F401

__version__ = '0.1.0'
