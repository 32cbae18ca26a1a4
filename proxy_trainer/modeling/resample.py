"""Cross-scale resampling with alpha, exactly as the TPU `resample_with_alpha` (facts §2).

parent -> 1x1 conv to int(alpha * C_parent) + BN + act -> [down: 3x3/2 conv + BN + act, then one
max-pool (kernel 3 if the ratio <= 4 else 5, stride ratio/2) when the ratio is > 2 | up: nearest]
-> 1x1 conv to the target block's input width + BN (no activation). A nearest resize to the
exact target size follows only when rounding of odd sizes leaves a mismatch (as the TPU code).
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn

from proxy_trainer.modeling.layers import conv_bn_act


class Resample(nn.Module):
    """Bring one parent feature to a target block's level and input width."""

    def __init__(
        self,
        in_channels: int,
        parent_filters: int,
        parent_level: int,
        target_level: int,
        target_channels: int,
        *,
        alpha: float,
        activation: str,
        bn_momentum: float,
    ):
        """
        Args:
            in_channels: channels of the parent feature (4C for a bottleneck, C for residual).
            parent_filters: the parent's 3x3 width C (TF divides a bottleneck's channels by 4).
            parent_level / target_level: levels of the parent and of the target block.
            target_channels: the target block's input width (4C for a bottleneck target).
            alpha: the squeeze factor; the middle width is int(parent_filters * alpha).
        """
        super().__init__()
        middle = max(1, int(parent_filters * alpha))
        norm = {"activation": activation, "bn_momentum": bn_momentum}
        self.squeeze = conv_bn_act(in_channels, middle, 1, **norm)
        self.down = self._downsampler(middle, target_level - parent_level, norm)
        self.expand = conv_bn_act(middle, target_channels, 1, activation=None, bn_momentum=bn_momentum)

    @staticmethod
    def _downsampler(channels: int, level_gap: int, norm: dict) -> nn.Module:
        if level_gap <= 0:
            return nn.Identity()
        ratio = 2**level_gap
        layers = [conv_bn_act(channels, channels, 3, 2, **norm)]
        if ratio > 2:
            kernel = 3 if ratio <= 4 else 5
            layers.append(nn.MaxPool2d(kernel_size=kernel, stride=ratio // 2, padding=kernel // 2))
        return nn.Sequential(*layers)

    def forward(self, x: Tensor, target_size: tuple[int, int]) -> Tensor:
        """Resample `x` to spatial `target_size` (H, W) and the target width."""
        x = self.down(self.squeeze(x))
        if tuple(x.shape[-2:]) != tuple(target_size):
            x = F.interpolate(x, size=target_size, mode="nearest")  # [N, c, h, w] -> [N, c, H, W]
        return self.expand(x)
