"""mmkd: knowledge distillation for MMDetection 3.x detectors.

Importing the package registers its hooks, losses, masks and adapters in the
``mmkd`` registry scope and makes MMEngine checkpoints loadable on
``torch>=2.6`` (see :mod:`mmkd.utils.safe_load`), and lets MMEngine's
``pytorch`` launcher run on CPU-only machines (:mod:`mmkd.utils.distributed`).
"""
from .utils.distributed import allow_cpu_process_groups
from .utils.safe_load import allow_mmengine_checkpoints

allow_mmengine_checkpoints()
allow_cpu_process_groups()

from . import adapters, hooks, losses, masks, schemes, teachers  # noqa: E402,F401

__version__ = '0.1.0'
