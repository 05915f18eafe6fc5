"""Folding batch norms into the convolutions before them.

The deployed INT8 convolution has one weight and one bias: a BN after it must
be folded in before the weight is quantised, or the INT8 weight the student
trained with is not the one that runs. Folding uses the BN's running
statistics, which then stay fixed (the usual choice for a short QAT
fine-tune from a trained model).
"""
from typing import List

from mmcv.cnn import ConvModule
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm
from torch.nn.utils.fusion import fuse_conv_bn_eval


def fold_conv_module(module: ConvModule) -> bool:
    """Fold ``module``'s BN into its convolution in place when the BN directly
    follows a plain ``Conv2d``; return whether it did."""
    order = list(module.order)
    if not (module.with_norm and isinstance(module.norm, _BatchNorm) and type(module.conv) is nn.Conv2d
            and order.index('norm') == order.index('conv') + 1):
        return False
    module.conv = fuse_conv_bn_eval(module.conv.eval(), module.norm.eval())
    delattr(module, module.norm_name)
    module.with_norm = False
    return True


def fold_batch_norms(model: nn.Module) -> List[str]:
    """Fold every ``ConvModule``'s conv + BN pair of ``model`` in place;
    return the paths of the folded modules."""
    return [name for name, module in model.named_modules()
            if isinstance(module, ConvModule) and fold_conv_module(module)]
