"""Params and multiply-adds of the instance task's Mask R-CNN, counted like the detector
(`proxy_trainer/complexity.py`: built and run on the meta device, batch 1, square input).

What runs depends on the proposals, so the count fixes them at torchvision's inference budget:
backbone + RPN head on the whole pyramid, the box head and predictor on the proposals kept after
the RPN's NMS at test (`RoISampling.test_proposals`, torchvision's 1000 by default), the mask head
and predictor on the 100 detections an image keeps. RoIAlign, NMS and box decoding are not multiply-adds and count nothing.
"""

from __future__ import annotations

import torch

from proxy_trainer.complexity import count_multiply_adds, count_params, meta_images
from proxy_trainer.modeling.detector import DETECTIONS_PER_IMAGE
from proxy_trainer.modeling.model_config import ModelConfig
from proxy_trainer.modeling.two_stage import BOX_POOL, DEFAULT_SAMPLING, MASK_POOL, RoISampling, build_mask_rcnn
from search_space.spec import ArchSpec


def count_mask_rcnn(spec: ArchSpec | None, config: ModelConfig, *, num_classes: int, image_size: int,
                    sampling: RoISampling = DEFAULT_SAMPLING) -> tuple[int, int]:
    """(params, multiply-adds) of `build_mask_rcnn`'s model at batch 1 (see the module docstring).

    Raises:
        UserInputError: bad sizes or levels the spec lacks.
    """
    with torch.device("meta"):
        model = build_mask_rcnn(spec, config, num_classes=num_classes, image_size=image_size, sampling=sampling)
    model.eval()
    heads = model.roi_heads
    channels = model.backbone.out_channels

    def run_model():
        features = list(model.backbone(meta_images(image_size)).values())
        model.rpn.head(features)
        box_features = torch.empty(sampling.test_proposals, channels, BOX_POOL, BOX_POOL, device="meta")
        heads.box_predictor(heads.box_head(box_features))
        mask_features = torch.empty(DETECTIONS_PER_IMAGE, channels, MASK_POOL, MASK_POOL, device="meta")
        heads.mask_predictor(heads.mask_head(mask_features))

    _, multiply_adds = count_multiply_adds(run_model)
    return count_params(model), multiply_adds
