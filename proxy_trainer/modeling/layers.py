"""The building blocks shared by SpineNet and the ResNet-FPN baseline (docs/facts.md §2.1, §6.2).

`conv_bn_act` is the one conv + BN (+ activation) helper every model part uses. The ResNet v1.5
blocks follow Google's TPU `nn_blocks`: the stride sits in the 3x3 conv, a 1x1 conv + BN
projection shortcut is used only when channels or stride change, and the last BN of each block
starts at zero gamma. `BlockGroup` is a block followed by `repeats - 1` identity-shortcut copies.
"""

from __future__ import annotations

from dataclasses import dataclass

from torch import Tensor, nn

BOTTLENECK_EXPANSION = 4  # a bottleneck outputs 4C channels for a 3x3 width C
ACTIVATIONS = {"relu": nn.ReLU, "swish": nn.SiLU}


@dataclass(frozen=True)
class LevelShape:
    """Channels and stride (2**level) of one output level of a backbone."""

    channels: int
    stride: int


def make_activation(name: str) -> nn.Module:
    """A fresh activation module by name ('relu' or 'swish')."""
    return ACTIVATIONS[name](inplace=False)


def conv_bn_act(
    in_channels: int,
    out_channels: int,
    kernel_size: int = 1,
    stride: int = 1,
    *,
    activation: str | None,
    bn_momentum: float,
    zero_gamma: bool = False,
    bias: bool = False,
) -> nn.Sequential:
    """Conv (TF 'fixed padding' = k//2 on both sides) + BatchNorm + optional activation.

    Args:
        activation: 'relu' / 'swish', or None for BN without activation.
        bn_momentum: PyTorch-convention momentum (1 - TF decay).
        zero_gamma: start the BN scale at 0 (last BN of a residual branch).
        bias: give the conv a bias (TF head convs have one; backbone convs do not).
    Returns:
        nn.Sequential(conv, bn[, act]).
    """
    conv = nn.Conv2d(in_channels, out_channels, kernel_size, stride, padding=kernel_size // 2, bias=bias)
    if not conv.weight.is_meta:  # meta tensors (counting builds) hold no values to initialise
        nn.init.kaiming_normal_(conv.weight, mode="fan_out", nonlinearity="relu")
    bn = nn.BatchNorm2d(out_channels, momentum=bn_momentum)
    if zero_gamma:
        nn.init.zeros_(bn.weight)
    layers = [conv, bn] + ([make_activation(activation)] if activation else [])
    return nn.Sequential(*layers)


def block_out_channels(block_fn: str, filters: int) -> int:
    """Output channels of a block of 3x3 width `filters`: 4C for bottleneck, C for residual."""
    return filters * BOTTLENECK_EXPANSION if block_fn == "bottleneck" else filters


class ResNetBlock(nn.Module):
    """One ResNet v1.5 block: a conv branch plus a (projection or identity) shortcut, then act."""

    def __init__(self, block_fn: str, in_channels: int, filters: int, stride: int, *, activation: str, bn_momentum: float):
        super().__init__()
        out_channels = block_out_channels(block_fn, filters)
        norm = {"activation": activation, "bn_momentum": bn_momentum}
        if block_fn == "bottleneck":
            self.branch = nn.Sequential(
                conv_bn_act(in_channels, filters, 1, **norm),
                conv_bn_act(filters, filters, 3, stride, **norm),
                conv_bn_act(filters, out_channels, 1, activation=None, bn_momentum=bn_momentum, zero_gamma=True),
            )
        else:
            self.branch = nn.Sequential(
                conv_bn_act(in_channels, filters, 3, stride, **norm),
                conv_bn_act(filters, out_channels, 3, activation=None, bn_momentum=bn_momentum, zero_gamma=True),
            )
        needs_projection = in_channels != out_channels or stride != 1
        self.shortcut = (
            conv_bn_act(in_channels, out_channels, 1, stride, activation=None, bn_momentum=bn_momentum)
            if needs_projection
            else nn.Identity()
        )
        self.act = make_activation(activation)

    def forward(self, x: Tensor) -> Tensor:
        return self.act(self.branch(x) + self.shortcut(x))


class BlockGroup(nn.Sequential):
    """`repeats` blocks in sequence; only the first may project or stride (TPU `block_group`)."""

    def __init__(
        self, block_fn: str, in_channels: int, filters: int, stride: int, repeats: int, *, activation: str, bn_momentum: float
    ):
        out_channels = block_out_channels(block_fn, filters)
        blocks = [ResNetBlock(block_fn, in_channels, filters, stride, activation=activation, bn_momentum=bn_momentum)]
        blocks += [
            ResNetBlock(block_fn, out_channels, filters, 1, activation=activation, bn_momentum=bn_momentum)
            for _ in range(1, repeats)
        ]
        super().__init__(*blocks)
        self.out_channels = out_channels


class StemConv(nn.Sequential):
    """7x7/2 conv (64 filters, unscaled as in the TPU code) + BN + act, then 3x3/2 max-pool: L2."""

    FILTERS = 64

    def __init__(self, *, activation: str, bn_momentum: float):
        super().__init__(
            conv_bn_act(3, self.FILTERS, 7, 2, activation=activation, bn_momentum=bn_momentum),
            nn.MaxPool2d(kernel_size=3, stride=2, padding=1),
        )
        self.out_channels = self.FILTERS
