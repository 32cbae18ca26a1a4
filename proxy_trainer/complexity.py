"""Params and FLOPs of a detector, counted like the paper (facts §4.3b).

Backbone + endpoints (or FPN) + RetinaNet head, at batch 1 on a square input, 9 anchors per
location. Built and run on the meta device, so SpineNet-190 at 1280 px counts in about a second;
`torch.utils.flop_counter` counts 2 FLOPs per multiply-add, and the paper reports multiply-adds.
"""

from __future__ import annotations

import torch
from torch.utils.flop_counter import FlopCounterMode

from search_space.spec import ArchSpec

from proxy_trainer.modeling.detector import build_backbone, build_head
from proxy_trainer.modeling.model_config import ModelConfig

FLOPS_PER_MULTIPLY_ADD = 2  # flop_counter counts a multiply and an add


def count_params_flops(
    spec: ArchSpec | None, config: ModelConfig, *, num_classes: int = 90, image_size: int
) -> tuple[int, int]:
    """Trainable parameters and multiply-adds of backbone + head at batch 1.

    Args:
        spec: the architecture, or None for the ResNet-50-FPN baseline.
        config: model config (widths, head).
        num_classes: classes of the head (90: COCO's label ids, as the paper counts).
        image_size: square input size in pixels.
    Returns:
        (params, multiply_adds).
    """
    with torch.device("meta"):
        backbone = build_backbone(spec, config)
        head = build_head(backbone.out_channels, config, num_classes)
    params = sum(p.numel() for module in (backbone, head) for p in module.parameters())
    images = torch.empty(1, 3, image_size, image_size, device="meta")
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        head(list(backbone(images).values()))
    return params, counter.get_total_flops() // FLOPS_PER_MULTIPLY_ADD
