"""Params and FLOPs of a detector, counted like the paper (docs/facts.md §4.3).

Backbone + endpoints (or FPN) + RetinaNet head, at batch 1 on a square input, 9 anchors per
location. Built and run on the meta device, so SpineNet-190 at 1280 px counts in about a second;
`torch.utils.flop_counter` counts 2 FLOPs per multiply-add, and the paper reports multiply-adds.
Besides multiply-adds it counts the elements the batch-norm layers put out: the memory traffic
FLOPs miss (normalization, activation and their backward passes each stream these tensors), which
on a CPU at narrow widths weighs on step time more than the multiply-adds do.

`count_params`, `meta_images` and `count_multiply_adds` are the counting steps, shared with the
classifier's counts (`proxy_trainer.tasks.classification.model`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from proxy_trainer.modeling.detector import build_backbone, build_head
from proxy_trainer.modeling.model_config import ModelConfig
from search_space.errors import UserInputError
from search_space.spec import ArchSpec

FLOPS_PER_MULTIPLY_ADD = 2  # flop_counter counts a multiply and an add
Result = TypeVar("Result")


@dataclass(frozen=True)
class ModelSummary:
    """What `describe_model` measures: size, cost and the pyramid the head sees."""

    params: int  # trainable parameters of backbone + head
    multiply_adds: int  # conv and matmul multiply-adds at batch 1
    level_shapes: dict[int, tuple[int, ...]]  # level -> [1, C, H, W] fed to the head
    norm_elements: int  # elements put out by all batch-norm layers at batch 1


def describe_model(
    spec: ArchSpec | None, config: ModelConfig, *, num_classes: int = 90, image_size: int
) -> ModelSummary:
    """Params, multiply-adds and per-level shapes of backbone + head at batch 1.

    Args:
        spec: the architecture, or None for the ResNet-50-FPN baseline.
        config: model config (widths, head).
        num_classes: classes of the head (90: COCO's label ids, as the paper counts).
        image_size: square input size in pixels.
    Raises:
        UserInputError: levels the spec lacks, or a non-positive size.
    """
    if image_size < 1 or num_classes < 1:
        raise UserInputError(f"image_size ({image_size}) and num_classes ({num_classes}) must be positive")
    with torch.device("meta"):
        backbone = build_backbone(spec, config)
        head = build_head(backbone.out_channels, config, num_classes)
    backbone.eval()  # inference mode: BN accepts batch 1 at a 1x1 level
    head.eval()
    images = meta_images(image_size)
    norm_outputs: list[int] = []
    hooks = [m.register_forward_hook(lambda _m, _in, out: norm_outputs.append(out.numel()))
             for module in (backbone, head) for m in module.modules() if isinstance(m, nn.BatchNorm2d)]

    def run_detector():
        features = backbone(images)
        head(list(features.values()))
        return features

    features, multiply_adds = count_multiply_adds(run_detector)
    for hook in hooks:
        hook.remove()
    shapes = {int(level): tuple(f.shape) for level, f in features.items()}
    return ModelSummary(count_params(backbone, head), multiply_adds, shapes, sum(norm_outputs))


def count_params_flops(
    spec: ArchSpec | None, config: ModelConfig, *, num_classes: int = 90, image_size: int
) -> tuple[int, int]:
    """(params, multiply_adds) of backbone + head at batch 1; see `describe_model`."""
    summary = describe_model(spec, config, num_classes=num_classes, image_size=image_size)
    return summary.params, summary.multiply_adds


def count_params(*modules: nn.Module) -> int:
    """Parameters of the modules (BN running statistics are buffers, not counted)."""
    return sum(p.numel() for module in modules for p in module.parameters())


def meta_images(image_size: int) -> torch.Tensor:
    """A batch of one square RGB image on the meta device: [1, 3, image_size, image_size]."""
    return torch.empty(1, 3, image_size, image_size, device="meta")


def count_multiply_adds(run: Callable[[], Result]) -> tuple[Result, int]:
    """Run `run()` without gradients under `FlopCounterMode`: (its result, multiply-adds)."""
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        result = run()
    return result, counter.get_total_flops() // FLOPS_PER_MULTIPLY_ADD
