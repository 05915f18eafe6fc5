"""Backbone / neck feature distillation losses."""
from .attention import AttentionGuidedLoss, NonLocalBlock, NonLocalDistillLoss
from .cwd import CWDLoss
from .fgd import FGDLoss, GlobalContextBlock
from .masked import MaskedFeatureLoss, masked_squared_error
from .mse import FeatureMSELoss
from .pkd import PKDLoss
from .utils import align_levels

__all__ = [
    'FeatureMSELoss', 'MaskedFeatureLoss', 'masked_squared_error', 'CWDLoss', 'PKDLoss', 'FGDLoss',
    'AttentionGuidedLoss', 'NonLocalDistillLoss', 'NonLocalBlock', 'GlobalContextBlock',
    'align_levels'
]
