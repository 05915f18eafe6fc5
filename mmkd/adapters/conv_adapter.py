"""Map a student feature map onto the teacher's shape."""
from typing import Optional, Tuple

import torch.nn.functional as F
from torch import Tensor, nn

from mmkd.registry import MODELS


@MODELS.register_module()
class ConvAdapter(nn.Module):
    """1x1 convolution (FitNets' regressor), optional norm, optional resize.

    ``y = resize(norm(W * x + b))``: channels go from the student's ``C_s`` to
    the teacher's ``C_t``; with ``resize=True`` the map is bilinearly resized to
    the teacher's spatial size when the two levels have different strides.

    Args:
        in_channels: student channels (filled in by the hook).
        out_channels: teacher channels (filled in by the hook).
        norm: add a BatchNorm after the convolution.
        resize: resize to the teacher's spatial size when it differs.
    """

    def __init__(self, in_channels: int, out_channels: int, norm: bool = False,
                 resize: bool = False) -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size=1, bias=not norm)
        self.norm = nn.BatchNorm2d(out_channels) if norm else nn.Identity()
        self.resize = resize
        nn.init.kaiming_uniform_(self.conv.weight, a=1)
        if self.conv.bias is not None:
            nn.init.zeros_(self.conv.bias)

    def forward(self, student: Tensor, target_size: Optional[Tuple[int, int]] = None) -> Tensor:
        out = self.norm(self.conv(student))
        if self.resize and target_size is not None and tuple(out.shape[-2:]) != tuple(target_size):
            out = F.interpolate(out, size=target_size, mode='bilinear', align_corners=False)
        return out
