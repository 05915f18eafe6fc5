"""Folding batch norms into the quantised convolutions before them.

The deployed INT8 convolution has one weight and one bias: a BN after it must
be folded in before the weight is quantised, or the INT8 weight the student
trained with is not the one that runs. Folding uses the BN's running
statistics, which then stay fixed (the usual choice for a short QAT fine-tune
from a trained model): with ``gain = gamma / sqrt(running_var + eps)`` per
output channel, the folded weight is ``gain * W`` and the bias
``beta + gain * (b - running_mean)``.

The convolution keeps ``W`` as its trainable parameter and ``gain`` as a
buffer (``QuantConv2d.weight_gain``), and quantises their product, so QAT
moves ``W`` with the gradients it had under the frozen BN. Training the
product itself does not work: YOLOX's stem sees raw 0-255 pixels and its BN
divides by their large spread, so the folded stem weight is tiny while its
gradient is not (4695 against 5-12 for every other layer, first QAT step of
the NEON student); one clipped SGD step at the fine-tune's learning rate
wrecked it (val mAP 0.089 after calibration, 0.002 after 10 QAT epochs).
"""
from typing import List

import torch
from mmcv.cnn import ConvModule
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm

from .modules import QuantConv2d


def fold_conv_module(module: ConvModule) -> bool:
    """Fold ``module``'s BN into its (already quantised) convolution in place
    when the BN directly follows it; return whether it did."""
    order = list(module.order)
    if not (module.with_norm and isinstance(module.norm, _BatchNorm) and isinstance(module.conv, QuantConv2d)
            and order.index('norm') == order.index('conv') + 1):
        return False
    conv, norm = module.conv, module.norm
    with torch.no_grad():
        gain = norm.weight / torch.sqrt(norm.running_var + norm.eps)
        bias = conv.bias if conv.bias is not None else torch.zeros_like(norm.running_mean)
        conv.bias = nn.Parameter(norm.bias + gain * (bias - norm.running_mean))
        conv.weight_gain.mul_(gain)
    conv.observe_weight()
    delattr(module, module.norm_name)
    module.with_norm = False
    return True


def fold_batch_norms(model: nn.Module) -> List[str]:
    """Fold every ``ConvModule``'s quantised conv + BN pair of ``model`` in
    place; return the paths of the folded modules."""
    return [name for name, module in model.named_modules()
            if isinstance(module, ConvModule) and fold_conv_module(module)]
