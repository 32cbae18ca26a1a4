"""The RetinaNet detector: torchvision's RetinaNet around our backbone, TF-style head, anchors,
focal loss at gamma 1.5, and a transform that keeps the configured size; plus `ModelConfig`."""

from __future__ import annotations

import math

import pytest
import torch
from torchvision.models.detection import RetinaNet
from torchvision.ops import sigmoid_focal_loss

from proxy_trainer.modeling.detector import NUM_ANCHORS, build_anchor_generator, build_detector
from proxy_trainer.modeling.head import FOCAL_GAMMA, FocalClassificationHead
from proxy_trainer.modeling.model_config import ModelConfig, ModelConfigError
from search_space import get_builtin
from search_space.errors import UserInputError

TINY = ModelConfig(filter_size_scale=0.0625, endpoints_num_filters=8, head_num_convs=2, head_num_filters=8)
SIZE = 128


def targets(num_classes: int) -> list[dict]:
    boxes = torch.tensor([[10.0, 12.0, 60.0, 70.0], [64.0, 64.0, 120.0, 100.0]])
    return [{"boxes": boxes, "labels": torch.tensor([0, num_classes - 1])} for _ in range(2)]


@pytest.mark.parametrize("spec_name", ["spinenet-49", None])
def test_training_losses_are_finite_and_backpropagate(spec_name):
    torch.manual_seed(0)
    spec = get_builtin(spec_name) if spec_name else None
    model = build_detector(spec, TINY, num_classes=3, image_size=SIZE)
    assert isinstance(model, RetinaNet)
    losses = model([torch.rand(3, SIZE, SIZE) for _ in range(2)], targets(3))
    assert set(losses) == {"classification", "bbox_regression"}
    assert all(torch.isfinite(v) and v > 0 for v in losses.values())
    sum(losses.values()).backward()
    assert all(torch.isfinite(p.grad).all() for p in model.parameters() if p.grad is not None)


def test_eval_detections_and_transform_keep_the_configured_size():
    model = build_detector(get_builtin("spinenet-49"), TINY, num_classes=3, image_size=SIZE).eval()
    images = [torch.rand(3, SIZE, SIZE)]
    batch, _ = model.transform(images)
    assert batch.image_sizes == [(SIZE, SIZE)] and batch.tensors.shape == (1, 3, SIZE, SIZE)
    with torch.no_grad():
        detections = model(images)
    assert set(detections[0]) == {"boxes", "scores", "labels"}
    assert len(detections[0]["boxes"]) <= 100


def test_anchors_are_three_scales_by_three_ratios():
    generator = build_anchor_generator(ModelConfig(anchor_size=3.0))
    assert generator.num_anchors_per_location() == [NUM_ANCHORS] * 5 == [9] * 5
    assert generator.sizes[0] == pytest.approx((24.0, 24 * 2 ** (1 / 3), 24 * 2 ** (2 / 3)))
    assert generator.sizes[4][0] == 3.0 * 128
    assert all(tuple(r) == (0.5, 1.0, 2.0) for r in generator.aspect_ratios)
    assert build_anchor_generator(ModelConfig.from_scaling("143")).sizes[0][0] == 4.0 * 8


@pytest.mark.parametrize("model_id,convs,filters", [("49S", 4, 128), ("49", 4, 256), ("190", 7, 512)])
def test_head_towers_follow_the_scaling_map(model_id, convs, filters):
    with torch.device("meta"):
        model = build_detector(get_builtin("spinenet-49"), ModelConfig.from_scaling(model_id), num_classes=90, image_size=640)
    for tower in (model.head.classification_head.conv, model.head.regression_head.conv):
        assert len(tower.convs) == convs and {c.out_channels for c in tower.convs} == {filters}
        assert all(c.bias is not None for c in tower.convs)
        assert [len(per_level) for per_level in tower.norms] == [5] * convs  # a BN per level
    assert model.head.classification_head.cls_logits.out_channels == 9 * 90
    assert model.head.regression_head.bbox_reg.out_channels == 9 * 4


def test_class_prior_init_is_torchvisions():
    model = build_detector(get_builtin("spinenet-49"), TINY, num_classes=3, image_size=SIZE)
    bias = model.head.classification_head.cls_logits.bias
    assert torch.allclose(bias, torch.full_like(bias, -math.log(99)))


def test_focal_loss_uses_gamma_1_5():
    torch.manual_seed(0)
    head = FocalClassificationHead(8, 1, 3, TINY, num_levels=1)
    logits = torch.randn(1, 4, 3)
    matched = torch.tensor([[0, -1, 1, -1]])  # anchors 0 and 2 are foreground
    labels = torch.tensor([2, 0])
    loss = head.compute_loss([{"labels": labels}], {"cls_logits": logits}, list(matched))
    onehot = torch.zeros(4, 3)
    onehot[0, 2] = onehot[2, 0] = 1.0
    expected = sigmoid_focal_loss(logits[0], onehot, alpha=0.25, gamma=1.5, reduction="sum") / 2
    gamma_2 = sigmoid_focal_loss(logits[0], onehot, alpha=0.25, gamma=2.0, reduction="sum") / 2
    assert FOCAL_GAMMA == 1.5
    torch.testing.assert_close(loss, expected)
    assert not torch.isclose(loss, gamma_2)


def test_bad_sizes_are_user_errors():
    with pytest.raises(UserInputError):
        build_detector(None, TINY, num_classes=0, image_size=SIZE)


def test_model_config_round_trip_and_scaling():
    config = ModelConfig.from_scaling("190")
    assert (config.head_num_convs, config.head_num_filters, config.anchor_size) == (7, 512, 4.0)
    assert (config.filter_size_scale, config.resample_alpha, config.block_repeats) == (1.3, 1.0, 4)
    assert ModelConfig.from_dict(config.to_dict()) == config
    assert ModelConfig.from_dict({"block_repeats": 2}).block_repeats == 2


@pytest.mark.parametrize("data,match", [
    ({"filter_scale": 1.0, "bogus": 2}, "unknown model config keys: bogus, filter_scale"),
    ({"block_repeats": 1.5}, "model.block_repeats is 1.5"),
    ({"resample_alpha": 0}, "model.resample_alpha is 0.0"),
    ({"activation": "gelu"}, "activation 'gelu' is unknown"),
    ({"min_level": 5, "max_level": 4}, "levels 5..4 are invalid"),
    ([1], "must be a mapping"),
])
def test_model_config_errors_name_the_problem(data, match):
    with pytest.raises(ModelConfigError, match=match):
        ModelConfig.from_dict(data)
