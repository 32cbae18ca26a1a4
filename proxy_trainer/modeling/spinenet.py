"""SpineNet: one builder that interprets any `ArchSpec` the way Google's code does (docs/facts.md §2).

Build phases: (1) stem — 7x7/2 conv + BN + act + 3x3/2 max-pool, then the spec's stem blocks as
a scale-decreased chain; (2) scale-permuted blocks — each block resamples its live parents (two;
one in a connection ablation) with alpha, adds the output-merge rule's implicit features
(`search_space.merge_rule`), applies the activation, then its block group of `block_repeats`
ResNet blocks; (3) endpoints — a 1x1 conv + BN + act per level min_level..max_level.

Only features with a path to an endpoint are built (`search_space.reachability`), as TF Model
Garden's Keras model holds only what its outputs reach: a dead block has no modules, runs in no
forward pass and counts in no parameter or FLOPs figure. Modules keep their block index as name
(`blocks.<k>`, `resamples.<k>.<i>`), so the names of a spec without dead blocks are unchanged.
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
from search_space.reachability import live_features
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
        downsample_pool: str = "single",
    ):
        """
        Args:
            downsample_pool: 'single' (tensorflow/tpu: one max-pool after the strided conv) or
                'chain' (Model Garden: a chain of 3x3/2 max-pools); see `resample.py`.
        Raises:
            UserInputError: the spec has no output block for some level in [min_level, max_level].
        """
        super().__init__()
        self.spec = spec
        self.min_level, self.max_level = min_level, max_level
        self.out_channels = endpoints_num_filters
        self._scale = filter_size_scale
        self._norm = {"activation": activation, "bn_momentum": bn_momentum}
        self._pool = downsample_pool
        self._channels: list[int] = []  # output channels of every feature, in feature order
        self.live = live_features(spec, min_level, max_level)  # features built (the rest are dead)
        self._build_stem(block_repeats)
        self._build_scale_permuted(resample_alpha, block_repeats)
        self._build_endpoints(endpoints_num_filters)

    # ---- phase 1: stem -------------------------------------------------------------------
    def _build_stem(self, repeats: int) -> None:
        self.stem_conv = StemConv(**self._norm)
        groups, channels, level = [], self.stem_conv.out_channels, STEM_LEVEL
        for feature, (stem_level, block_fn) in enumerate(self.spec.stem):
            filters = level_filters(stem_level, self._scale)
            if feature in self.live:  # the live stem blocks are a prefix of the chain
                groups.append(BlockGroup(block_fn, channels, filters, 2 ** (stem_level - level), repeats, **self._norm))
            channels, level = block_out_channels(block_fn, filters), stem_level
            self._channels.append(channels)
        self.stem_blocks = nn.ModuleList(groups)

    # ---- phase 2: scale-permuted blocks ------------------------------------------------------
    def _build_scale_permuted(self, alpha: float, repeats: int) -> None:
        self.merges = implicit_merges(self.spec)
        self.parents = [self.spec.live_inputs(k) for k in range(len(self.spec.blocks))]
        resamples, groups = {}, {}
        for k, (block, parents) in enumerate(zip(self.spec.blocks, self.parents)):
            filters = level_filters(block.level, self._scale)
            target_channels = block_out_channels(block.block_fn, filters)
            if self.spec.num_stem + k in self.live:
                resamples[str(k)] = nn.ModuleList(self._resample(p, block.level, target_channels, alpha) for p in parents)
                groups[str(k)] = BlockGroup(block.block_fn, target_channels, filters, 1, repeats, **self._norm)
            self._channels.append(target_channels)
        self.resamples = nn.ModuleDict(resamples)
        self.blocks = nn.ModuleDict(groups)
        self.fuse_act = make_activation(self._norm["activation"])

    def _resample(self, parent: int, level: int, target_channels: int, alpha: float) -> Resample:
        parent_level = self.spec.feature_level(parent)
        return Resample(
            self._channels[parent], level_filters(parent_level, self._scale), parent_level, level,
            target_channels, alpha=alpha, pool=self._pool, **self._norm,
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

    def _forward_stem(self, images: Tensor) -> dict[int, Tensor]:
        x, feats = self.stem_conv(images), {}
        for feature, group in enumerate(self.stem_blocks):
            x = group(x)
            feats[feature] = x
        return feats

    def _forward_scale_permuted(self, feats: dict[int, Tensor], size: tuple[int, int]) -> dict[int, Tensor]:
        for key, group in self.blocks.items():
            k = int(key)
            feature = self.spec.num_stem + k
            target = level_size(size, self.spec.blocks[k].level)
            x = reduce(operator.add, (r(feats[p], target) for r, p in zip(self.resamples[key], self.parents[k])))
            for j in self.merges.get(feature, ()):
                x = x + feats[j]  # implicit merge: same level and width, no resampling
            feats[feature] = group(self.fuse_act(x))
        return feats
