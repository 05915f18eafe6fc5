"""Weight maps over feature levels for feature distillation (composable)."""
from .attention import (
                        ChannelAttentionMask,
                        SpatialAttentionMask,
                        activities,
                        attention_from_activity,
                        channel_activity,
                        spatial_activity,
)
from .background import DecoupledMask, ScaleAwareMask
from .base import BaseMask, MaskCfg, ProductMask, SpatialMask, build_mask
from .boxes import BoxSet
from .discrepancy import DiscrepancyMask, GIDMask
from .foreground import AnchorIoUMask, GTBoxMask, PriorInBoxMask
from .grid import LevelGrid
from .roi import RoIForegroundMask

__all__ = [
    'BaseMask', 'MaskCfg', 'SpatialMask', 'ProductMask', 'build_mask', 'LevelGrid', 'BoxSet', 'GTBoxMask',
    'AnchorIoUMask', 'PriorInBoxMask', 'DecoupledMask', 'ScaleAwareMask', 'SpatialAttentionMask',
    'ChannelAttentionMask', 'activities', 'attention_from_activity', 'spatial_activity',
    'channel_activity', 'DiscrepancyMask', 'GIDMask', 'RoIForegroundMask'
]
