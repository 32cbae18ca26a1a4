"""Two-stage detectors around our backbone: torchvision's Faster R-CNN and Mask R-CNN.

Any spec at any scaling (None: the ResNet-50-FPN baseline) goes in as the backbone; its pyramid
is the config's levels, P3..P7 by default, reaching down to P2 when the spec has an L2 output
block (Model Garden's 16-entry SpineNet-49 list, docs/facts.md §6.3): `two_stage_levels`. The parts are
torchvision's, sized from the `ModelConfig` as the paper's Mask R-CNN is at full width:

- RPN: the RetinaNet builder's anchors per level (3 octave scales x ratios {0.5, 1, 2}, base
  anchor_size x stride, `detector.build_anchor_generator`), torchvision's `RPNHead` (one 3x3 conv).
- RoI features: `MultiScaleRoIAlign` over every level the backbone gives, 7x7 for boxes and
  14x14 for masks; torchvision maps a box of side s to level floor(4 + log2(s / 224)), clamped
  to the pyramid, as Model Garden's `multilevel_crop_and_resize` does.
- box head: torchvision's `TwoMLPHead` (two fully connected layers, FPN Faster R-CNN's) of
  4 x head_num_filters units (1024 at the full 256) and `FastRCNNPredictor`.
- mask head: torchvision's `MaskRCNNHeads`, head_num_convs 3x3 convs of head_num_filters (the
  paper's 4 x 256 at full size), and `MaskRCNNPredictor` (2x deconvolution, per-class 28x28 logits).

Sampling: `RoISampling` holds how many proposals the RPN keeps per image (after NMS; also the
per-level count before it) in training and at test, and how many RoIs per training image the box
head samples (a quarter of them positive); the defaults are torchvision's and Model Garden's
(2000, 1000, 512). Most of a step's cost at a small input is there, not in the backbone.

Labels: torchvision's two-stage heads reserve class 0 for the background, so a data set's
labels 0..K-1 are trained as 1..K (`shift_labels`) and predictions are mapped back by the
caller. The transform keeps the configured input size, as the RetinaNet builder does.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from torch import nn
from torchvision.models.detection import FasterRCNN, MaskRCNN
from torchvision.models.detection.faster_rcnn import FastRCNNPredictor, TwoMLPHead
from torchvision.models.detection.mask_rcnn import MaskRCNNHeads, MaskRCNNPredictor
from torchvision.models.detection.rpn import RPNHead
from torchvision.ops import MultiScaleRoIAlign

from proxy_trainer.modeling.detector import DETECTIONS_PER_IMAGE, NUM_ANCHORS, build_anchor_generator, build_backbone
from proxy_trainer.modeling.model_config import ModelConfig
from search_space.errors import UserInputError
from search_space.spec import ArchSpec

BOX_POOL, MASK_POOL = 7, 14  # RoIAlign output sides (Mask R-CNN paper, torchvision)
SAMPLING_RATIO = 2  # RoIAlign sampling points per bin side (torchvision's default)
FC_PER_FILTER = 4  # box-head units per head filter: 1024 fully connected units at 256 filters
L2 = 2  # the level of Model Garden's extra SpineNet output
BACKGROUND_CLASSES = 1  # class 0 of torchvision's two-stage heads


@dataclass(frozen=True)
class RoISampling:
    """Proposals kept per image (training, test) and RoIs sampled per training image."""

    train_proposals: int = 2000  # torchvision's rpn_post_nms_top_n_train (Model Garden: 2000)
    test_proposals: int = 1000  # torchvision's rpn_post_nms_top_n_test (Model Garden: 1000)
    rois_per_image: int = 512  # torchvision's box_batch_size_per_image (Model Garden: 512)

    def __post_init__(self) -> None:
        for name in ("train_proposals", "test_proposals", "rois_per_image"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise UserInputError(f"{name} is {value!r}; it must be a positive integer")

    def torchvision_arguments(self) -> dict:
        return {"rpn_pre_nms_top_n_train": self.train_proposals, "rpn_post_nms_top_n_train": self.train_proposals,
                "rpn_pre_nms_top_n_test": self.test_proposals, "rpn_post_nms_top_n_test": self.test_proposals,
                "box_batch_size_per_image": self.rois_per_image}


DEFAULT_SAMPLING = RoISampling()  # torchvision's and Model Garden's


def two_stage_levels(spec: ArchSpec | None, config: ModelConfig) -> ModelConfig:
    """The config with min_level 2 when the spec has an L2 output block (and asks for P3 up),
    else unchanged: P2..P7 for Model Garden's 16-entry list, the config's levels otherwise."""
    if spec is None or config.min_level != L2 + 1 or L2 not in spec.output_features():
        return config
    return replace(config, min_level=L2)


def shift_labels(targets: list[dict]) -> list[dict]:
    """Targets with labels 0..K-1 as torchvision's two-stage heads take them: 1..K (0 is background)."""
    return [{**target, "labels": target["labels"] + BACKGROUND_CLASSES} for target in targets]


def _check_sizes(num_classes: int, image_size: int) -> None:
    if num_classes < 1 or image_size < 1:
        raise UserInputError(f"num_classes ({num_classes}) and image_size ({image_size}) must be positive")


def _roi_pool(backbone: nn.Module, side: int) -> MultiScaleRoIAlign:
    levels = range(backbone.min_level, backbone.max_level + 1)
    return MultiScaleRoIAlign([str(level) for level in levels], output_size=side, sampling_ratio=SAMPLING_RATIO)


def _common_parts(spec: ArchSpec | None, config: ModelConfig, num_classes: int, image_size: int,
                  sampling: RoISampling) -> dict:
    """Backbone, RPN and box head arguments shared by Faster and Mask R-CNN."""
    _check_sizes(num_classes, image_size)
    config = two_stage_levels(spec, config)
    backbone = build_backbone(spec, config)
    channels, fc_units = backbone.out_channels, FC_PER_FILTER * config.head_num_filters
    return {
        "backbone": backbone,
        "num_classes": num_classes + BACKGROUND_CLASSES,
        "min_size": image_size,
        "max_size": image_size,
        "rpn_anchor_generator": build_anchor_generator(config),
        "rpn_head": RPNHead(channels, NUM_ANCHORS),
        "box_roi_pool": _roi_pool(backbone, BOX_POOL),
        "box_head": TwoMLPHead(channels * BOX_POOL**2, fc_units),
        "box_predictor": None,
        "box_detections_per_img": DETECTIONS_PER_IMAGE,
        "fc_units": fc_units,
        **sampling.torchvision_arguments(),
    }


def _with_predictor(parts: dict) -> dict:
    """torchvision takes either num_classes or a predictor: give the predictor, sized to the head."""
    num_classes, fc_units = parts.pop("num_classes"), parts.pop("fc_units")
    return {**parts, "box_predictor": FastRCNNPredictor(fc_units, num_classes)}, num_classes


def build_faster_rcnn(spec: ArchSpec | None, config: ModelConfig, *, num_classes: int, image_size: int,
                      sampling: RoISampling = DEFAULT_SAMPLING) -> FasterRCNN:
    """torchvision Faster R-CNN with our backbone and the RetinaNet builder's anchors.

    Args:
        spec: the backbone; None builds the ResNet-50-FPN baseline at the same width.
        config: widths, head size, anchors, levels (see the module docstring).
        num_classes: object classes, without the background (labels 1..K in targets).
        image_size: the square input size the transform keeps.
        sampling: proposals and sampled RoIs per image (torchvision's defaults unless given).
    Raises:
        UserInputError: num_classes or image_size not positive, or levels the spec lacks.
    """
    parts, _ = _with_predictor(_common_parts(spec, config, num_classes, image_size, sampling))
    return FasterRCNN(**parts)


def build_mask_rcnn(spec: ArchSpec | None, config: ModelConfig, *, num_classes: int, image_size: int,
                    sampling: RoISampling = DEFAULT_SAMPLING) -> MaskRCNN:
    """torchvision Mask R-CNN: `build_faster_rcnn`'s detector plus the mask branch.

    Args and raises: as `build_faster_rcnn`; masks are `head_num_convs` 3x3 convs of
    `head_num_filters` channels on 14x14 RoI features, then a 2x deconvolution to 28x28 logits.
    """
    parts, classes = _with_predictor(_common_parts(spec, config, num_classes, image_size, sampling))
    channels, filters = parts["backbone"].out_channels, config.head_num_filters
    mask_layers = [filters] * config.head_num_convs
    mask_head = MaskRCNNHeads(channels, mask_layers, dilation=1)
    predictor_in = mask_layers[-1] if mask_layers else channels
    return MaskRCNN(**parts, mask_roi_pool=_roi_pool(parts["backbone"], MASK_POOL), mask_head=mask_head,
                    mask_predictor=MaskRCNNPredictor(predictor_in, filters, classes))
