"""Cross-scale resampling with alpha, as the TPU `resample_with_alpha` (docs/facts.md §2.2).

parent -> 1x1 conv to int(alpha * C_parent) + BN + act -> [down: 3x3/2 conv + BN + act, then the
rest of the reduction by max-pooling | up: nearest] -> 1x1 conv to the target block's input width
+ BN (no activation). A nearest resize to the exact target size follows only when rounding of odd
sizes leaves a mismatch (as the TPU code).

Two forms of the max-pooling, chosen by `pool` (model config `downsample_pool`):
- 'single' (default, tensorflow/tpu `resample_with_alpha`): one max-pool when the ratio is > 2,
  kernel 3 if the ratio <= 4 else 5, stride ratio/2;
- 'chain' (TF Model Garden `_resample_with_alpha`): 3x3/2 max-pools repeated until the size matches.
Both are parameter-free and give the same shapes; their outputs are equal for a level gap of 2
(one 3x3/2 pool either way) and differ from a gap of 3 on (one 5x5/4 pool against two 3x3/2).
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn

from proxy_trainer.modeling.layers import conv_bn_act
from search_space.errors import UserInputError

POOL_FORMS = ("single", "chain")  # tensorflow/tpu's one max-pool | Model Garden's chain of 3x3/2 pools


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
        pool: str = "single",
    ):
        """
        Args:
            in_channels: channels of the parent feature (4C for a bottleneck, C for residual).
            parent_filters: the parent's 3x3 width C (TF divides a bottleneck's channels by 4).
            parent_level / target_level: levels of the parent and of the target block.
            target_channels: the target block's input width (4C for a bottleneck target).
            alpha: the squeeze factor; the middle width is int(parent_filters * alpha).
            pool: 'single' or 'chain', the max-pooling form of a downsampling by 4 or more.
        Raises:
            UserInputError: an unknown `pool`.
        """
        super().__init__()
        middle = max(1, int(parent_filters * alpha))
        norm = {"activation": activation, "bn_momentum": bn_momentum}
        self.squeeze = conv_bn_act(in_channels, middle, 1, **norm)
        if pool not in POOL_FORMS:
            raise UserInputError(f"downsample pool {pool!r} is unknown; use one of {', '.join(POOL_FORMS)}")
        self.down = self._downsampler(middle, target_level - parent_level, norm, pool)
        self.expand = conv_bn_act(middle, target_channels, 1, activation=None, bn_momentum=bn_momentum)

    @staticmethod
    def _downsampler(channels: int, level_gap: int, norm: dict, pool: str) -> nn.Module:
        if level_gap <= 0:
            return nn.Identity()
        ratio = 2**level_gap
        layers = [conv_bn_act(channels, channels, 3, 2, **norm)]
        if ratio > 2 and pool == "chain":
            layers += [nn.MaxPool2d(kernel_size=3, stride=2, padding=1) for _ in range(level_gap - 1)]
        elif ratio > 2:
            kernel = 3 if ratio <= 4 else 5
            layers.append(nn.MaxPool2d(kernel_size=kernel, stride=ratio // 2, padding=kernel // 2))
        return nn.Sequential(*layers)

    def forward(self, x: Tensor, target_size: tuple[int, int]) -> Tensor:
        """Resample `x` to spatial `target_size` (H, W) and the target width."""
        x = self.down(self.squeeze(x))
        if tuple(x.shape[-2:]) != tuple(target_size):
            x = F.interpolate(x, size=target_size, mode="nearest")  # [N, c, h, w] -> [N, c, H, W]
        return self.expand(x)
