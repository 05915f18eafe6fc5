"""Weight maps over feature levels for feature distillation (composable)."""
from .attention import (ChannelAttentionMask, SpatialAttentionMask, channel_attention,
                        channel_activity, spatial_activity, spatial_attention)
from .background import DecoupledMask, ScaleAwareMask
from .base import BaseMask, MaskCfg, ProductMask, SpatialMask, build_mask
from .boxes import BoxSet
from .discrepancy import DiscrepancyMask, GIDMask
from .foreground import AnchorIoUMask, GTBoxMask, PriorInBoxMask
from .grid import LevelGrid

__all__ = [
    'BaseMask', 'MaskCfg', 'SpatialMask', 'ProductMask', 'build_mask', 'LevelGrid', 'BoxSet', 'GTBoxMask',
    'AnchorIoUMask', 'PriorInBoxMask', 'DecoupledMask', 'ScaleAwareMask', 'SpatialAttentionMask',
    'ChannelAttentionMask', 'spatial_activity', 'channel_activity', 'spatial_attention',
    'channel_attention', 'DiscrepancyMask', 'GIDMask'
]
