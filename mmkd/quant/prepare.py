"""Preparing a detector for INT8: fold BNs, swap convolutions, name what stays float."""
from dataclasses import dataclass, field
from typing import List

from mmengine.logging import MMLogger
from torch import nn

from .fold import fold_batch_norms
from .modules import QuantConv2d, QuantSiLU, set_observers
from .scheme import DEFAULT_SCHEME, QuantScheme


@dataclass
class QuantReport:
    """What :func:`prepare_qat` did: folded BNs, quantised convs, float leftovers."""

    folded: List[str] = field(default_factory=list)
    quantized: List[str] = field(default_factory=list)
    activations: List[str] = field(default_factory=list)
    float_modules: List[str] = field(default_factory=list)

    def summary(self) -> str:
        lines = [f'mmkd.quant: {len(self.quantized)} convolutions quantised (INT8 weights per channel, '
                 f'activations per tensor), {len(self.folded)} batch norms folded into them, '
                 f'{len(self.activations)} SiLUs quantised']
        if self.float_modules:
            lines.append(f'mmkd.quant: {len(self.float_modules)} modules cannot be quantised by the '
                         'ONNX Runtime QDQ flow and stay float: ' + ', '.join(self.float_modules))
        return '\n'.join(lines)


def _quantizable(module: nn.Module) -> bool:
    """A 2-d convolution ONNX Runtime runs as ``QLinearConv``."""
    return type(module) is nn.Conv2d and module.padding_mode == 'zeros'


def _silu(module: nn.Module) -> bool:
    """A SiLU (PyTorch's, or mmcv's ``Swish``, which YOLOX configs name)."""
    from mmcv.cnn.bricks.swish import Swish
    return type(module) in (nn.SiLU, Swish)


def _replace(model: nn.Module, name: str, module: nn.Module) -> None:
    parent, _, child = name.rpartition('.')
    setattr(model.get_submodule(parent), child, module)


def prepare_qat(model: nn.Module, scheme: QuantScheme = DEFAULT_SCHEME) -> QuantReport:
    """Make ``model`` fake-quantised in place and report what stays float.

    Every plain ``Conv2d`` becomes a :class:`QuantConv2d`, BNs that follow one
    in a ``ConvModule`` are folded into it (:mod:`mmkd.quant.fold`) and every
    SiLU becomes a :class:`QuantSiLU`. Any other module that owns parameters (a BN without
    a conv before it, GroupNorm, Linear, deformable convs, learnable scales)
    is left float and listed by path and type in the report and the log. Observers start frozen: ranges come from
    calibration (:func:`mmkd.quant.calibrate`) or from the training iterations
    (:class:`mmkd.quant.QuantObserverHook`), never from set-up probes.
    """
    report = QuantReport()
    report.quantized = [name for name, module in model.named_modules() if name and _quantizable(module)]
    for name in report.quantized:
        _replace(model, name, QuantConv2d.from_float(model.get_submodule(name), scheme))
    report.folded = fold_batch_norms(model)
    report.activations = [name for name, module in model.named_modules() if name and _silu(module)]
    for name in report.activations:
        _replace(model, name, QuantSiLU(scheme))
    report.float_modules = [f'{name} ({type(module).__name__})' for name, module in model.named_modules()
                            if not isinstance(module, QuantConv2d)
                            and next(module.parameters(recurse=False), None) is not None]
    set_observers(model, False)
    MMLogger.get_current_instance().info(report.summary())
    return report
