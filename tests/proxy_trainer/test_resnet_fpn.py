"""The ResNet-FPN baseline: our ResNet-50 blocks + torchvision's FPN with P6/P7 count exactly
like torchvision's `retinanet_resnet50_fpn` backbone, work at any width, give P3..P7."""

from __future__ import annotations

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode
from torchvision.models.detection import retinanet_resnet50_fpn

from proxy_trainer.modeling.layers import LevelShape
from proxy_trainer.modeling.resnet_fpn import ResNetFPN
from search_space.errors import UserInputError


def params_and_flops(backbone, size: int) -> tuple[int, int]:
    backbone.eval()
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        backbone(torch.empty(1, 3, size, size, device="meta"))
    return sum(p.numel() for p in backbone.parameters()), counter.get_total_flops()


def test_counts_equal_torchvision_resnet50_fpn_backbone():
    with torch.device("meta"):
        ours = ResNetFPN()
        reference = retinanet_resnet50_fpn(weights=None, weights_backbone=None, num_classes=91).backbone
    assert params_and_flops(ours, 640) == params_and_flops(reference, 640)


def test_stage_depths_and_widths_are_resnet50():
    with torch.device("meta"):
        model = ResNetFPN()
    assert [len(stage) for stage in model.stages.values()] == [3, 4, 6, 3]
    assert [stage.out_channels for stage in model.stages.values()] == [256, 512, 1024, 2048]


@pytest.mark.parametrize("scale", [0.0625, 0.125])
def test_any_width_forward_backward(scale):
    torch.manual_seed(0)
    model = ResNetFPN(filter_size_scale=scale, endpoints_num_filters=8)
    outputs = model(torch.randn(2, 3, 128, 128))
    assert {k: tuple(v.shape) for k, v in outputs.items()} == {
        str(lv): (2, 8, 128 // 2**lv, 128 // 2**lv) for lv in range(3, 8)
    }
    sum(v.square().mean() for v in outputs.values()).backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in model.parameters())
    assert model.output_shape() == {lv: LevelShape(8, 2**lv) for lv in range(3, 8)}


def test_unsupported_levels_are_user_errors():
    with pytest.raises(UserInputError, match="min 2..5 up to 7; got 3..6"):
        ResNetFPN(max_level=6)
