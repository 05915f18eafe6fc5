"""The discriminator of adversarial feature distillation."""
from typing import List

from torch import Tensor, nn

from mmkd.registry import MODELS


@MODELS.register_module()
class FeatureDiscriminator(nn.Module):
    """A small fully convolutional (PatchGAN-style) discriminator.

    ``num_convs`` 3x3 convolutions with LeakyReLU, then a 1x1 convolution to
    one logit per location (``(B, 1, H, W)``): "is this a teacher feature?".
    Shared by all levels of an entry.

    Args:
        in_channels: channels of the teacher feature (the adapted student has
            the same).
        feat_channels: hidden channels.
        num_convs: hidden 3x3 convolutions.
    """

    def __init__(self, in_channels: int, feat_channels: int = 64, num_convs: int = 2) -> None:
        super().__init__()
        layers: List[nn.Module] = []
        for index in range(num_convs):
            layers += [nn.Conv2d(in_channels if index == 0 else feat_channels, feat_channels, 3, padding=1),
                       nn.LeakyReLU(0.2, inplace=True)]
        layers.append(nn.Conv2d(feat_channels if num_convs else in_channels, 1, 1))
        self.layers = nn.Sequential(*layers)
        self.in_channels = in_channels

    def forward(self, feat: Tensor) -> Tensor:
        if feat.shape[1] != self.in_channels:
            raise ValueError(f'the discriminator expects {self.in_channels} channels (in_channels) but the '
                             f'distilled feature has {feat.shape[1]}: set in_channels to the teacher\'s width')
        return self.layers(feat)
