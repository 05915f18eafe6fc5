"""The quantised convolution and the switches of its fake-quantisers."""
from typing import Iterator, List, Optional

import torch
from torch import Tensor, nn
from torch.ao.quantization import FakeQuantize

from .scheme import DEFAULT_SCHEME, QuantScheme

#: The integer range of each ONNX ``QuantizeLinear`` output type.
ONNX_RANGES = {torch.qint8: (-128, 127), torch.quint8: (0, 255)}


def fake_quantize(quantizer: FakeQuantize, x: Tensor) -> Tensor:
    """``quantizer(x)``; while exporting to ONNX, the same rounding with its
    qparams fixed as constants.

    ``FakeQuantize.forward`` branches on its enable flags, which the ONNX
    tracer cannot follow; the functional ops below export as one
    ``QuantizeLinear``/``DequantizeLinear`` pair with the scale and zero point
    the module holds, which ONNX Runtime fuses into INT8 kernels. ONNX knows
    only the full range of each type, so a narrow grid (weights' ``[-127,
    127]``) is exported as its type's range: the values, already on the
    narrow grid's scale, never reach the extra point.
    """
    if not torch.onnx.is_in_onnx_export():
        return quantizer(x)
    quant_min, quant_max = ONNX_RANGES[quantizer.dtype]
    if quantizer.is_per_channel:
        return torch.fake_quantize_per_channel_affine(x, quantizer.scale, quantizer.zero_point.int(),
                                                      quantizer.ch_axis, quant_min, quant_max)
    return torch.fake_quantize_per_tensor_affine(x, float(quantizer.scale), int(quantizer.zero_point),
                                                 quant_min, quant_max)


class QuantConv2d(nn.Conv2d):
    """A ``Conv2d`` whose input, weight and output are fake-quantised.

    It stays a ``Conv2d`` with the same ``weight``/``bias`` names, so module
    paths, optimizer groups and checkpoint keys of the detector keep their
    meaning; the quantisers' scales, zero points and observer ranges are
    buffers, saved in the checkpoint (exact resume). Quantising the output as
    well as the input is what lets ONNX Runtime run the convolution as one
    ``QLinearConv`` (``DequantizeLinear -> Conv -> QuantizeLinear``).

    The weight that is quantised and deployed is ``weight_gain * weight``
    (:meth:`folded_weight`): ``weight_gain`` is a per-output-channel buffer,
    1 unless a batch norm was folded in (:mod:`mmkd.quant.fold`).
    """

    def __init__(self, *args, scheme: QuantScheme = DEFAULT_SCHEME, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.register_buffer('weight_gain', torch.ones(self.out_channels, device=self.weight.device))
        self.input_quant = scheme.activation()
        self.weight_quant = scheme.weight()
        self.output_quant = scheme.activation()
        self.observe_weight()

    def folded_weight(self) -> Tensor:
        """The weight the deployed convolution runs: ``weight_gain`` times ``weight``, per output channel."""
        return self.weight * self.weight_gain.view(-1, *[1] * (self.weight.dim() - 1))

    def observe_weight(self) -> None:
        """Set the weight quantiser's per-channel range from the current folded weight.

        This also gives its buffers their per-channel shapes, so a checkpoint
        of a prepared model loads into a freshly prepared one with every key
        and shape matching.
        """
        with torch.no_grad():
            self.weight_quant.activation_post_process(self.folded_weight())
            scale, zero_point = self.weight_quant.calculate_qparams()
            self.weight_quant.scale.resize_(scale.shape).copy_(scale)
            self.weight_quant.zero_point.resize_(zero_point.shape).copy_(zero_point)

    @classmethod
    def from_float(cls, conv: nn.Conv2d, scheme: QuantScheme) -> 'QuantConv2d':
        """A quantised copy of ``conv`` sharing its parameters."""
        quant = cls(conv.in_channels, conv.out_channels, conv.kernel_size, stride=conv.stride,
                    padding=conv.padding, dilation=conv.dilation, groups=conv.groups, bias=conv.bias is not None,
                    scheme=scheme, device=conv.weight.device)
        quant.weight = conv.weight
        quant.bias = conv.bias
        quant.observe_weight()
        return quant

    def quantized_bias(self) -> Optional[Tensor]:
        """The bias on the ``int32`` grid of step input scale times weight scale, which ONNX Runtime runs.

        ONNX Runtime quantises a QDQ convolution's float bias when it fuses
        the ``QLinearConv`` (``WeightBiasQuantization``: ``Cast(Round(bias /
        (input_scale * weight_scale)))`` in float32, ties to even); this is
        that rounding, with the gradient passed straight through to the float
        bias. With the float bias, 0.03% of each convolution's outputs were
        one step off ONNX Runtime's on the same integer input (NEON QAT
        student), with this rounding 0.0002% (``docs/quantisation.md``). The
        bias stays float while rounding is off (calibration) and in the
        exported file, where ONNX Runtime rounds it.
        """
        rounding = self.input_quant.fake_quant_enabled[0] and self.weight_quant.fake_quant_enabled[0]
        if self.bias is None or not rounding:
            return self.bias
        scale = self.input_quant.scale * self.weight_quant.scale
        return self.bias + (torch.round(self.bias / scale) * scale - self.bias).detach()

    def forward(self, x: Tensor) -> Tensor:
        x = fake_quantize(self.input_quant, x)
        weight = fake_quantize(self.weight_quant, self.folded_weight())
        bias = self.bias if torch.onnx.is_in_onnx_export() else self.quantized_bias()
        return fake_quantize(self.output_quant, self._conv_forward(x, weight, bias))


class QuantSiLU(nn.Module):
    """SiLU (``x * sigmoid(x)``, mmcv's ``Swish``) with its sigmoid and its
    product fake-quantised.

    Its input is the quantised output of the conv before it, so ONNX Runtime
    runs it as ``QLinearSigmoid`` (a 256-entry table) and ``QLinearMul``:
    without these two quantisers every SiLU runs in float between a
    ``DequantizeLinear`` and a ``QuantizeLinear``, which took most of the
    INT8 speed-up (NEON student, 416 px, batch 8, one thread: 174 ms with
    float SiLU, 114 ms quantised, FP32 ONNX Runtime 192 ms; see
    ``docs/quantisation.md``).
    """

    def __init__(self, scheme: QuantScheme = DEFAULT_SCHEME) -> None:
        super().__init__()
        self.sigmoid_quant = scheme.activation()
        self.output_quant = scheme.activation()

    def forward(self, x: Tensor) -> Tensor:
        return fake_quantize(self.output_quant, x * fake_quantize(self.sigmoid_quant, torch.sigmoid(x)))


def bias_overflows(model: nn.Module) -> List[str]:
    """Quantised convs whose bias does not fit ``int32`` in units of input
    scale times weight scale (how ONNX Runtime's ``QLinearConv`` stores it)."""
    limit = torch.iinfo(torch.int32).max
    return [name for name, module in model.named_modules()
            if isinstance(module, QuantConv2d) and module.bias is not None
            and bool((module.bias.detach().abs() / (module.input_quant.scale * module.weight_quant.scale)
                      > limit).any())]


def quantizers(model: nn.Module) -> Iterator[FakeQuantize]:
    """Every fake-quantiser in ``model``."""
    return (module for module in model.modules() if isinstance(module, FakeQuantize))


def set_observers(model: nn.Module, enabled: bool) -> None:
    """Let the observers of ``model`` update their ranges, or freeze them."""
    for quantizer in quantizers(model):
        quantizer.observer_enabled.fill_(int(enabled))


def set_fake_quant(model: nn.Module, enabled: bool) -> None:
    """Round to the INT8 grid (``True``), or pass values through unchanged."""
    for quantizer in quantizers(model):
        quantizer.fake_quant_enabled.fill_(int(enabled))


def is_quantized(model: nn.Module) -> bool:
    """Whether ``model`` holds quantised convolutions (prepared by :func:`prepare_qat`)."""
    return any(isinstance(module, QuantConv2d) for module in model.modules())
