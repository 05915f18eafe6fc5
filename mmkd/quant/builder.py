"""``type='mmkd.QuantizedDetector'``: a config's detector, fake-quantised at build time."""
from typing import Optional

from mmengine.logging import MMLogger
from torch import nn

from mmkd.registry import MODELS

from .prepare import prepare_qat
from .scheme import QuantScheme


@MODELS.register_module()
def QuantizedDetector(detector: dict, scheme: Optional[dict] = None) -> nn.Module:  # noqa: N802 (a config type)
    """Build ``detector`` and prepare it for INT8 (:func:`mmkd.quant.prepare_qat`).

    What comes back is the detector itself (same class, same module paths),
    so the distillation hook's ``'neck'``/``'bbox_head'`` entries, optimizer
    groups and checkpoints work as for the float student. Its weights come from
    ``load_from``: a calibrated checkpoint written by ``tools/deploy.py
    --save-calibrated`` (PTQ as the QAT starting point), or a QAT checkpoint to
    resume from. Initialisation runs here, before the convolutions are swapped,
    so the runner's later ``init_weights`` call changes nothing.
    """
    model = MODELS.build(detector)
    model.init_weights()
    prepare_qat(model, QuantScheme(**(scheme or {})))
    MMLogger.get_current_instance().info('mmkd.quant: the student is fake-quantised; load its weights and '
                                         'ranges with load_from (a calibrated or QAT checkpoint)')
    return model
