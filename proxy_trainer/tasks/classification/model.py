"""The paper's image classifier: a backbone, tensorflow/tpu's head with aggregation 'all', and its
size against the paper's ImageNet table (docs/facts.md §4.4).

Holds `AggregateAll` (endpoints averaged at the lowest level's resolution), `ClassificationHead`
(aggregation, optional 1x1 conv + BN + activation, global average pooling, dropout, linear),
`Classifier` and `build_classifier` (any spec at any scaling, docs/facts.md §4.1; spec None gives
the ResNet-50-FPN backbone), and the counts: `summarize_classifier` (with the endpoint shapes),
`describe_classifier`, `torchvision_resnet50_counts`,
`IMAGENET_TABLE` and `imagenet_table_rows`, counted like the detector (docs/facts.md §4.3).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import torch
import torch.nn.functional as F
import torchvision
from torch import Tensor, nn

from proxy_trainer.complexity import count_multiply_adds, count_params, meta_images
from proxy_trainer.modeling.detector import build_backbone
from proxy_trainer.modeling.layers import conv_bn_act
from proxy_trainer.modeling.model_config import ModelConfig
from search_space.builtins import get_builtin
from search_space.errors import UserInputError
from search_space.spec import ArchSpec

LOGIT_INIT_STD = 0.01  # tensorflow/tpu's dense layer: kernel ~ N(0, 0.01^2), bias zeros


class AggregateAll(nn.Module):
    """tensorflow/tpu's aggregation 'all': every endpoint brought to the lowest level and averaged.

    From the highest level down, the running sum is nearest-resized to the next lower level's size
    and that level's endpoint is added; the sum is divided by the number of levels. The order can
    matter where a ratio is not whole (at 40 px, L5 -> L4 -> L3 is 2 -> 3 -> 5 pixels wide); torch's
    'nearest' picks source pixel floor(i * in / out), as TF1's `resize_nearest_neighbor` with its
    defaults does. All endpoints must have the same channels.
    """

    def forward(self, features: Mapping[str, Tensor]) -> Tensor:
        """{level: [N, C, H_l, W_l]} -> [N, C, H_low, W_low] at the lowest level's size."""
        if not features:
            raise UserInputError("AggregateAll needs at least one endpoint level")
        levels = sorted(features, key=int, reverse=True)  # highest level first
        total = features[levels[0]]  # [N, C, H_top, W_top]
        for level in levels[1:]:
            lower = features[level]  # [N, C, H_l, W_l], H_l >= the running sum's height
            total = F.interpolate(total, size=lower.shape[-2:], mode="nearest") + lower  # [N, C, H_l, W_l]
        return total / len(levels)


def check_head_arguments(num_classes: int, dropout: float) -> None:
    """Raise `UserInputError` unless num_classes is a positive int and 0 <= dropout < 1."""
    if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 1:
        raise UserInputError(f"num_classes is {num_classes!r}; it must be a positive integer")
    if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) or not 0.0 <= dropout < 1.0:
        raise UserInputError(f"dropout is {dropout!r}; it must be a rate in [0, 1)")


class ClassificationHead(nn.Module):
    """Endpoints -> logits: `AggregateAll`, [1x1 conv + BN + act], global average pool, dropout, linear.

    The 1x1 conv + BN + activation (tensorflow/tpu's optional embedding, `endpoints_num_filters`
    > 0) is off by default: the paper's ImageNet figures are reproduced only without it, and the
    official SpineNet classification configs keep it off (`endpoints_num_filters: 0`). Arithmetic
    with C = 256 endpoints (C = 512 for SpineNet-190) and 1000 classes: the linear layer adds
    C * 1000 + 1000 = 257,000 parameters (513,000), and the 1x1 conv would add C * C + 2C = 66,048
    (263,168). Backbone 21.831M + 0.257M = 22.088M is the paper's 22.1M, and with the conv 22.154M
    rounds to 22.2M; likewise 96 gives 36.520M (36.586M with it, 36.6M), 143 60.505M (60.571M,
    60.6M) and 190 127.101M (127.364M, 127.4M). Its multiply-adds, C^2 per pixel of the lowest
    level (51.4M for SpineNet-49/96/143 at 224 px), would also take 96 from 5.72B to 5.77B, which
    rounds to 5.8B, not the published 5.7B.

    The linear layer starts as tensorflow/tpu's dense layer does: weights ~ N(0, 0.01^2), bias 0,
    so that the initial logits are near zero and the softmax starts near uniform.
    """

    def __init__(
        self,
        in_channels: int,
        num_classes: int,
        *,
        dropout: float = 0.2,
        head_conv: bool = False,
        activation: str = "relu",
        bn_momentum: float = 0.01,
    ):
        """
        Args:
            in_channels: channels of every endpoint (the backbone's `out_channels`).
            num_classes: logits per image.
            dropout: drop rate on the pooled vector during training.
            head_conv: add the 1x1 conv (in_channels -> in_channels, no bias) + BN + activation.
            activation, bn_momentum: of that optional conv (the backbone's, from `ModelConfig`).
        Raises:
            UserInputError: num_classes not a positive int or dropout outside [0, 1).
        """
        super().__init__()
        check_head_arguments(num_classes, dropout)
        self.aggregate = AggregateAll()
        self.embed = (conv_bn_act(in_channels, in_channels, 1, activation=activation, bn_momentum=bn_momentum)
                      if head_conv else nn.Identity())
        self.pool = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten())  # [N, C, H, W] -> [N, C]
        self.dropout = nn.Dropout(dropout)
        self.logits = nn.Linear(in_channels, num_classes)
        nn.init.normal_(self.logits.weight, std=LOGIT_INIT_STD)
        nn.init.zeros_(self.logits.bias)

    def forward(self, features: Mapping[str, Tensor]) -> Tensor:
        """{level: [N, C, H_l, W_l]} -> logits [N, num_classes]."""
        pooled = self.pool(self.embed(self.aggregate(features)))  # [N, C]
        return self.logits(self.dropout(pooled))


class Classifier(nn.Module):
    """A backbone (SpineNet or ResNet-50-FPN) followed by a `ClassificationHead`."""

    def __init__(self, backbone: nn.Module, head: ClassificationHead):
        super().__init__()
        self.backbone = backbone
        self.head = head

    def forward(self, images: Tensor) -> Tensor:
        """images [N, 3, H, W] -> logits [N, num_classes]."""
        return self.head(self.backbone(images))


def build_classifier(
    spec: ArchSpec | None, config: ModelConfig, *, num_classes: int, dropout: float = 0.2, head_conv: bool = False
) -> Classifier:
    """The classifier for a spec at a scaling: the detector's backbone plus a `ClassificationHead`.

    Args:
        spec: the backbone architecture; None builds the ResNet-50-FPN baseline at the same width.
        config: widths and levels (min_level..max_level are the levels aggregated; the RetinaNet
            head fields are unused).
        num_classes: logits per image.
        dropout: drop rate before the linear layer (training only); 0.2 is this project's default,
            tensorflow/tpu's SpineNet configs leave theirs at 0.0 (docs/facts.md §4.4).
        head_conv: add the optional 1x1 conv + BN + activation (see `ClassificationHead`).
    Raises:
        UserInputError: bad num_classes or dropout, or levels the spec lacks.
    """
    check_head_arguments(num_classes, dropout)
    backbone = build_backbone(spec, config)
    head = ClassificationHead(backbone.out_channels, num_classes, dropout=dropout, head_conv=head_conv,
                              activation=config.activation, bn_momentum=config.bn_momentum)
    return Classifier(backbone, head)


@dataclass(frozen=True)
class ClassifierSummary:
    """What `summarize_classifier` measures: size, cost and the endpoints the head aggregates."""

    params: int  # trainable parameters of backbone + head
    multiply_adds: int  # conv and matmul multiply-adds at batch 1
    level_shapes: dict[int, tuple[int, ...]]  # level -> [1, C, H, W] fed to the head


def summarize_classifier(
    spec: ArchSpec | None, config: ModelConfig, *, num_classes: int = 1000, image_size: int = 224,
    head_conv: bool = False,
) -> ClassifierSummary:
    """Params, multiply-adds and endpoint shapes of the classifier at batch 1 on a square input,
    in eval mode.

    Built and run on the meta device and counted like the detector (`proxy_trainer.complexity`).
    Raises:
        UserInputError: bad num_classes, non-positive image_size, or levels the spec lacks.
    """
    if image_size < 1:
        raise UserInputError(f"image_size is {image_size}; it must be positive")
    with torch.device("meta"):
        classifier = build_classifier(spec, config, num_classes=num_classes, head_conv=head_conv)
    classifier.eval()  # inference mode: dropout off, BN accepts batch 1 at a 1x1 level
    images = meta_images(image_size)

    def run_classifier():
        features = classifier.backbone(images)
        classifier.head(features)
        return features

    features, multiply_adds = count_multiply_adds(run_classifier)
    shapes = {int(level): tuple(f.shape) for level, f in features.items()}
    return ClassifierSummary(count_params(classifier), multiply_adds, shapes)


def describe_classifier(
    spec: ArchSpec | None, config: ModelConfig, *, num_classes: int = 1000, image_size: int = 224,
    head_conv: bool = False,
) -> tuple[int, int]:
    """(params, multiply-adds) of the classifier; see `summarize_classifier`."""
    summary = summarize_classifier(spec, config, num_classes=num_classes, image_size=image_size, head_conv=head_conv)
    return summary.params, summary.multiply_adds


def torchvision_resnet50_counts(image_size: int = 224) -> tuple[int, int]:
    """(params, multiply-adds) of torchvision's ResNet-50 (1000 classes, no weights), counted the same way."""
    with torch.device("meta"):
        model = torchvision.models.resnet50(weights=None)
    return _count_in_eval_mode(model, image_size)


def _count_in_eval_mode(model: nn.Module, image_size: int) -> tuple[int, int]:
    model.eval()  # inference mode: dropout off, BN accepts batch 1 at a 1x1 level
    images = meta_images(image_size)
    _, multiply_adds = count_multiply_adds(lambda: model(images))
    return count_params(model), multiply_adds


# ---- the paper's ImageNet table --------------------------------------------------------------

RESNET_50 = "resnet-50"  # torchvision's ResNet-50, the paper's baseline row


@dataclass(frozen=True)
class PublishedSize:
    """One row of the paper's ImageNet table: model, params (M), FLOPs (B, multiply-adds) or None."""

    model: str  # a SpineNet scaling id ('49', ...) or RESNET_50
    params_m: float
    flops_b: float | None  # None: not published (SpineNet-190 appears only in the improved-recipe table)


# The paper's ImageNet table (paper §5.6, 224 px; docs/facts.md §4.4): FLOPs and params of
# SpineNet-49/96/143 and ResNet-50; SpineNet-190's params from the table of the improved recipe
# (App. B: stochastic depth, swish, label smoothing).
IMAGENET_TABLE: tuple[PublishedSize, ...] = (
    PublishedSize("49", 22.1, 3.5),
    PublishedSize("96", 36.5, 5.7),
    PublishedSize("143", 60.5, 9.1),
    PublishedSize("190", 127.1, None),
    PublishedSize(RESNET_50, 25.6, 4.1),
)
IMAGENET_CLASSES = 1000
IMAGENET_IMAGE_SIZE = 224


@dataclass(frozen=True)
class ImageNetRow:
    """Our count of one model beside the paper's; differences are (ours - paper) / paper."""

    model: str
    params: int
    multiply_adds: int
    paper_params_m: float
    paper_flops_b: float | None
    params_difference: float
    flops_difference: float | None


def imagenet_counts(model: str, image_size: int = IMAGENET_IMAGE_SIZE) -> tuple[int, int]:
    """(params, multiply-adds) of one ImageNet model: the built-in spinenet-49 spec at scaling
    `model`, 1000 classes, no head conv; or torchvision's ResNet-50 for RESNET_50."""
    if model == RESNET_50:
        return torchvision_resnet50_counts(image_size)
    return describe_classifier(get_builtin("spinenet-49"), ModelConfig.from_scaling(model),
                               num_classes=IMAGENET_CLASSES, image_size=image_size)


def imagenet_table_rows(image_size: int = IMAGENET_IMAGE_SIZE) -> list[ImageNetRow]:
    """Every row of `IMAGENET_TABLE` with our counts and the relative differences."""
    rows = []
    for published in IMAGENET_TABLE:
        params, multiply_adds = imagenet_counts(published.model, image_size)
        flops_difference = (None if published.flops_b is None
                            else multiply_adds / (published.flops_b * 1e9) - 1)
        rows.append(ImageNetRow(published.model, params, multiply_adds, published.params_m, published.flops_b,
                                params / (published.params_m * 1e6) - 1, flops_difference))
    return rows
