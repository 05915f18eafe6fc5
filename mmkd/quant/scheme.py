"""The INT8 scheme: which observers and fake-quantisers the student gets.

The scheme is chosen so that ONNX Runtime's QDQ kernels compute what the
fake-quantised PyTorch model computes: activations affine ``uint8`` per
tensor, weights symmetric ``int8`` per output channel (``QLinearConv``'s
layout).
"""
from dataclasses import dataclass

import torch
from torch.ao.quantization import FakeQuantize, MovingAverageMinMaxObserver, MovingAveragePerChannelMinMaxObserver


@dataclass(frozen=True)
class QuantScheme:
    """Factories for the fake-quantisers of one quantised convolution.

    Args:
        activation_averaging: the moving-average constant of the activation
            ranges during QAT (PyTorch's default 0.01): ranges follow the
            weights slowly, so one odd batch does not move them.
        activation_min_scale: the smallest activation scale. ONNX Runtime
            stores a convolution's bias as ``int32`` in units of input scale
            times weight scale; a near-constant input (a dead channel group,
            an untrained model) would make that unit so small that a bias
            such as YOLOX's prior ``-4.6`` overflows ``int32``.
    """

    activation_averaging: float = 0.01
    activation_min_scale: float = 1e-5

    def activation(self) -> FakeQuantize:
        """Per-tensor affine ``uint8`` fake-quantiser of an activation."""
        return FakeQuantize(observer=MovingAverageMinMaxObserver, averaging_constant=self.activation_averaging,
                            eps=self.activation_min_scale,
                            quant_min=0, quant_max=255, dtype=torch.quint8, qscheme=torch.per_tensor_affine)

    def weight(self) -> FakeQuantize:
        """Per-output-channel symmetric ``int8`` fake-quantiser of a weight.

        Its range is the weight's current one (averaging constant 1): weights
        change under QAT, and the deployed kernel quantises the final weight.
        The grid is the narrow ``[-127, 127]`` (scale ``max|w| / 127``, as
        ONNX Runtime's own quantiser does): with the full ``[-128, 127]``
        PyTorch's symmetric scale is ``max|w| / 127.5``, which puts the
        largest weight of every channel exactly half-way between two grid
        points, where PyTorch and ONNX Runtime round it differently.
        """
        return FakeQuantize(observer=MovingAveragePerChannelMinMaxObserver, averaging_constant=1.0,
                            quant_min=-127, quant_max=127, dtype=torch.qint8,
                            qscheme=torch.per_channel_symmetric, ch_axis=0)


#: The scheme used when none is configured.
DEFAULT_SCHEME = QuantScheme()
