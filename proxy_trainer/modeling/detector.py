"""The detector: torchvision's RetinaNet around our backbone, head and anchors (docs/facts.md §6.1).

Anchors: 3 octave scales x aspect ratios {0.5, 1, 2} per level, base size anchor_size * stride.
The image transform keeps the configured input size (min_size = max_size = image_size), never
torchvision's 800/1333 defaults. Matching and post-processing follow the TPU RetinaNet config.
"""

from __future__ import annotations

from torch import nn
from torchvision.models.detection import RetinaNet
from torchvision.models.detection.anchor_utils import AnchorGenerator

from proxy_trainer.modeling.head import TFRetinaNetHead
from proxy_trainer.modeling.model_config import ModelConfig
from proxy_trainer.modeling.resnet_fpn import ResNetFPN
from proxy_trainer.modeling.spinenet import SpineNet
from search_space.errors import UserInputError
from search_space.spec import ArchSpec

NUM_SCALES = 3  # anchor octave scales per level: 2^0, 2^(1/3), 2^(2/3)
ASPECT_RATIOS = (0.5, 1.0, 2.0)  # TPU aspect ratios [1.0, 2.0, 0.5]
NUM_ANCHORS = NUM_SCALES * len(ASPECT_RATIOS)  # 9 per location
MATCH_IOU = 0.5  # TPU matcher: matched and unmatched thresholds both 0.5
DETECTIONS_PER_IMAGE = 100  # TPU/COCO: at most 100 detections per image


def build_backbone(spec: ArchSpec | None, config: ModelConfig) -> nn.Module:
    """SpineNet for a spec, or the ResNet-50-FPN baseline (spec None), from one config."""
    common = {
        "filter_size_scale": config.filter_size_scale,
        "endpoints_num_filters": config.endpoints_num_filters,
        "min_level": config.min_level,
        "max_level": config.max_level,
        "activation": config.activation,
        "bn_momentum": config.bn_momentum,
    }
    if spec is None:
        return ResNetFPN(**common)
    return SpineNet(spec, resample_alpha=config.resample_alpha, block_repeats=config.block_repeats,
                    downsample_pool=config.downsample_pool, **common)


def build_anchor_generator(config: ModelConfig) -> AnchorGenerator:
    """Per level l: sizes anchor_size * 2^l * 2^(i/3) for i < 3, ratios {0.5, 1, 2}."""
    levels = range(config.min_level, config.max_level + 1)
    sizes = tuple(tuple(config.anchor_size * 2**lv * 2 ** (i / NUM_SCALES) for i in range(NUM_SCALES)) for lv in levels)
    return AnchorGenerator(sizes, (ASPECT_RATIOS,) * len(sizes))


def build_head(in_channels: int, config: ModelConfig, num_classes: int) -> TFRetinaNetHead:
    """The TF-style RetinaNet head for `num_classes` classes and 9 anchors per location."""
    return TFRetinaNetHead(in_channels, NUM_ANCHORS, num_classes, config)


def build_detector(spec: ArchSpec | None, config: ModelConfig, *, num_classes: int, image_size: int) -> RetinaNet:
    """torchvision RetinaNet with our backbone, head and anchors.

    Args:
        spec: the backbone architecture; None builds the ResNet-50-FPN baseline at the same width.
        config: widths, head, anchors (see `ModelConfig`).
        num_classes: classes; targets' labels are 0..num_classes-1 (no background class).
        image_size: the square input size; the transform keeps images at this size.
    Returns:
        a `torchvision.models.detection.RetinaNet`.
    Raises:
        UserInputError: num_classes or image_size not positive, or levels the spec lacks.
    """
    if num_classes < 1 or image_size < 1:
        raise UserInputError(f"num_classes ({num_classes}) and image_size ({image_size}) must be positive")
    backbone = build_backbone(spec, config)
    return RetinaNet(
        backbone,
        num_classes,
        min_size=image_size,
        max_size=image_size,
        anchor_generator=build_anchor_generator(config),
        head=build_head(backbone.out_channels, config, num_classes),
        fg_iou_thresh=MATCH_IOU,
        bg_iou_thresh=MATCH_IOU,
        detections_per_img=DETECTIONS_PER_IMAGE,
    )
