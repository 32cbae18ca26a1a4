"""SpineNet: one builder that interprets any `ArchSpec` the way Google's TPU code does (facts §2).

Build phases: (1) stem — 7x7/2 conv + BN + act + 3x3/2 max-pool, then the spec's stem blocks as
a scale-decreased chain; (2) scale-permuted blocks — each block resamples its live parents (two;
one in a connection ablation) with alpha, adds the output-merge rule's implicit features
(`search_space.merge_rule`), applies the activation, then its block group of `block_repeats`
ResNet blocks; (3) endpoints — a 1x1 conv + BN + act per level min_level..max_level.
"""

from __future__ import annotations

import operator
from collections import OrderedDict
from functools import reduce

from torch import Tensor, nn

from proxy_trainer.modeling.layers import (
    BlockGroup,
    LevelShape,
    StemConv,
    block_out_channels,
    conv_bn_act,
    make_activation,
)
from proxy_trainer.modeling.resample import Resample
from search_space.errors import UserInputError
from search_space.merge_rule import implicit_merges
from search_space.spec import ArchSpec

# Base 3x3 width C per level (TPU FILTER_SIZE_MAP), times filter_size_scale.
FILTER_SIZE_MAP = {1: 32, 2: 64, 3: 128, 4: 256, 5: 256, 6: 256, 7: 256}
STEM_LEVEL = 2  # the stem conv + max-pool leave the input at 1/4


def level_filters(level: int, filter_size_scale: float) -> int:
    """The 3x3 width C of a block at `level` (int() truncation, as the TPU code)."""
    return int(FILTER_SIZE_MAP[level] * filter_size_scale)


def level_size(size: tuple[int, int], level: int) -> tuple[int, int]:
    """Spatial size of `level` for an input of `size` (H, W): ceil(size / 2**level)."""
    return tuple(-(-s // 2**level) for s in size)


class SpineNet(nn.Module):
    """A scale-permuted backbone built from an `ArchSpec`; returns {'3': P3, ..., '7': P7}."""

    def __init__(
        self,
        spec: ArchSpec,
        *,
        filter_size_scale: float = 1.0,
        resample_alpha: float = 0.5,
        block_repeats: int = 1,
        endpoints_num_filters: int = 256,
        min_level: int = 3,
        max_level: int = 7,
        activation: str = "relu",
        bn_momentum: float = 0.01,
    ):
        """
        Raises:
            UserInputError: the spec has no output block for some level in [min_level, max_level].
        """
        super().__init__()
        self.spec = spec
        self.min_level, self.max_level = min_level, max_level
        self.out_channels = endpoints_num_filters
        self._scale = filter_size_scale
        self._norm = {"activation": activation, "bn_momentum": bn_momentum}
        self._channels: list[int] = []  # output channels of every feature, in feature order
        self._build_stem(block_repeats)
        self._build_scale_permuted(resample_alpha, block_repeats)
        self._build_endpoints(endpoints_num_filters)

    # ---- phase 1: stem -------------------------------------------------------------------
    def _build_stem(self, repeats: int) -> None:
        self.stem_conv = StemConv(**self._norm)
        groups, channels, level = [], self.stem_conv.out_channels, STEM_LEVEL
        for stem_level, block_fn in self.spec.stem:
            group = BlockGroup(block_fn, channels, level_filters(stem_level, self._scale),
                               2 ** (stem_level - level), repeats, **self._norm)
            groups.append(group)
            channels, level = group.out_channels, stem_level
            self._channels.append(channels)
        self.stem_blocks = nn.ModuleList(groups)

    # ---- phase 2: scale-permuted blocks ------------------------------------------------------
    def _build_scale_permuted(self, alpha: float, repeats: int) -> None:
        self.merges = implicit_merges(self.spec)
        self.parents = [self.spec.live_inputs(k) for k in range(len(self.spec.blocks))]
        resamples, groups = [], []
        for block, parents in zip(self.spec.blocks, self.parents):
            filters = level_filters(block.level, self._scale)
            target_channels = block_out_channels(block.block_fn, filters)
            resamples.append(nn.ModuleList(self._resample(p, block.level, target_channels, alpha) for p in parents))
            groups.append(BlockGroup(block.block_fn, target_channels, filters, 1, repeats, **self._norm))
            self._channels.append(target_channels)
        self.resamples = nn.ModuleList(resamples)
        self.blocks = nn.ModuleList(groups)
        self.fuse_act = make_activation(self._norm["activation"])

    def _resample(self, parent: int, level: int, target_channels: int, alpha: float) -> Resample:
        parent_level = self.spec.feature_level(parent)
        return Resample(
            self._channels[parent], level_filters(parent_level, self._scale), parent_level, level,
            target_channels, alpha=alpha, **self._norm,
        )

    # ---- phase 3: endpoints ---------------------------------------------------------------
    def _build_endpoints(self, num_filters: int) -> None:
        outputs = self.spec.output_features()
        missing = [lv for lv in range(self.min_level, self.max_level + 1) if lv not in outputs]
        if missing:
            raise UserInputError(
                f"spec '{self.spec.name}' has no output block at level(s) {missing}; "
                f"its outputs are {sorted(outputs)}, so use min/max levels within them"
            )
        self.output_features = {lv: outputs[lv] for lv in range(self.min_level, self.max_level + 1)}
        self.endpoints = nn.ModuleDict({
            str(lv): conv_bn_act(self._channels[f], num_filters, 1, **self._norm)
            for lv, f in self.output_features.items()
        })

    def output_shape(self) -> dict[int, LevelShape]:
        """Channels and stride of each output level."""
        return {lv: LevelShape(self.out_channels, 2**lv) for lv in self.output_features}

    # ---- forward ---------------------------------------------------------------------------
    def forward(self, images: Tensor) -> OrderedDict[str, Tensor]:
        """images [N, 3, H, W] -> {str(level): [N, endpoints, ceil(H/2^l), ceil(W/2^l)]}."""
        size = tuple(images.shape[-2:])
        feats = self._forward_stem(images)
        feats = self._forward_scale_permuted(feats, size)
        return OrderedDict((str(lv), self.endpoints[str(lv)](feats[f])) for lv, f in self.output_features.items())

    def _forward_stem(self, images: Tensor) -> list[Tensor]:
        x, feats = self.stem_conv(images), []
        for group in self.stem_blocks:
            x = group(x)
            feats.append(x)
        return feats

    def _forward_scale_permuted(self, feats: list[Tensor], size: tuple[int, int]) -> list[Tensor]:
        for k, block in enumerate(self.spec.blocks):
            feature = self.spec.num_stem + k
            target = level_size(size, block.level)
            x = reduce(operator.add, (r(feats[p], target) for r, p in zip(self.resamples[k], self.parents[k])))
            for j in self.merges.get(feature, ()):
                x = x + feats[j]  # implicit merge: same level and width, no resampling
            feats.append(self.blocks[k](self.fuse_act(x)))
        return feats
