"""The ResNet-FPN baseline (the paper's R50-FPN): our ResNet v1.5 blocks + torchvision's FPN.

ResNet-50 = the SpineNet stem conv, then bottleneck stages of {3, 4, 6, 3} blocks at L2..L5
(widths 64/128/256/512 times `filter_size_scale`, stride 2 entering L3..L5). torchvision's
`FeaturePyramidNetwork` maps C_min..C5 to `endpoints_num_filters`, and its `LastLevelP6P7`
adds P6/P7 from P5, as torchvision's `retinanet_resnet50_fpn` does.
"""

from __future__ import annotations

from collections import OrderedDict

from torch import Tensor, nn
from torchvision.ops.feature_pyramid_network import FeaturePyramidNetwork, LastLevelP6P7

from proxy_trainer.modeling.layers import BlockGroup, LevelShape, StemConv
from search_space.errors import UserInputError

RESNET_FILTERS = {2: 64, 3: 128, 4: 256, 5: 512}  # 3x3 width C per stage (outputs 4C)
RESNET50_DEPTHS = {2: 3, 3: 4, 4: 6, 5: 3}  # bottleneck blocks per stage
FPN_TOP_LEVEL = 7  # LastLevelP6P7 always adds two levels above C5


class ResNetFPN(nn.Module):
    """ResNet (default depth 50) + FPN with P6/P7; returns {'3': P3, ..., '7': P7}."""

    def __init__(
        self,
        *,
        filter_size_scale: float = 1.0,
        endpoints_num_filters: int = 256,
        min_level: int = 3,
        max_level: int = 7,
        activation: str = "relu",
        bn_momentum: float = 0.01,
        depths: dict[int, int] = RESNET50_DEPTHS,
    ):
        """
        Raises:
            UserInputError: levels outside what ResNet + FPN + P6/P7 gives (min 2..5, max 7).
        """
        super().__init__()
        if not (2 <= min_level <= 5 and max_level == FPN_TOP_LEVEL):
            raise UserInputError(
                f"the ResNet-FPN baseline gives levels min 2..5 up to 7; got {min_level}..{max_level}"
            )
        self.min_level, self.max_level = min_level, max_level
        self.out_channels = endpoints_num_filters
        norm = {"activation": activation, "bn_momentum": bn_momentum}
        self.stem_conv = StemConv(**norm)
        self.stages = nn.ModuleDict(self._build_stages(filter_size_scale, depths, norm))
        in_channels = [self.stages[str(lv)].out_channels for lv in range(min_level, 6)]
        self.fpn = FeaturePyramidNetwork(
            in_channels, endpoints_num_filters, extra_blocks=LastLevelP6P7(endpoints_num_filters, endpoints_num_filters)
        )

    def _build_stages(self, scale: float, depths: dict[int, int], norm: dict) -> dict[str, BlockGroup]:
        stages, channels = {}, StemConv.FILTERS
        for level, depth in depths.items():
            stride = 1 if level == 2 else 2
            stage = BlockGroup("bottleneck", channels, int(RESNET_FILTERS[level] * scale), stride, depth, **norm)
            stages[str(level)], channels = stage, stage.out_channels
        return stages

    def output_shape(self) -> dict[int, LevelShape]:
        """Channels and stride of each output level."""
        return {lv: LevelShape(self.out_channels, 2**lv) for lv in range(self.min_level, self.max_level + 1)}

    def forward(self, images: Tensor) -> OrderedDict[str, Tensor]:
        """images [N, 3, H, W] -> {str(level): [N, endpoints, H/2^l, W/2^l]}."""
        x, feats = self.stem_conv(images), OrderedDict()
        for name, stage in self.stages.items():
            x = stage(x)
            if int(name) >= self.min_level:
                feats[name] = x
        pyramid = self.fpn(feats)  # keys: input names, then 'p6', 'p7'
        return OrderedDict((str(lv), p) for lv, p in zip(range(self.min_level, self.max_level + 1), pyramid.values()))
