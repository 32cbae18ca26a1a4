"""The image classifier (docs/facts.md §4.4): the paper's ImageNet table within its tolerance,
tensorflow/tpu's aggregation 'all' on hand-built inputs, shapes, dropout, the optional head conv
and input errors. Big models are counted on the meta device; real forwards use tiny widths."""

from __future__ import annotations

from collections import OrderedDict
from decimal import Decimal

import pytest
import torch

from proxy_trainer.complexity import count_params
from proxy_trainer.modeling.model_config import ModelConfig
from proxy_trainer.tasks.classification.model import (
    IMAGENET_TABLE,
    RESNET_50,
    AggregateAll,
    ClassificationHead,
    build_classifier,
    describe_classifier,
    imagenet_table_rows,
)
from search_space import get_builtin
from search_space.errors import UserInputError

SPINENET_49 = get_builtin("spinenet-49")
TINY = ModelConfig(filter_size_scale=0.125, resample_alpha=0.25, endpoints_num_filters=16)

# The paper's ImageNet table (paper §5.6, App. B; docs/facts.md §4.4): model -> (params in M,
# FLOPs in B or None), at 224 px with 1000 classes.
PAPER_IMAGENET = {
    "49": (22.1, 3.5),
    "96": (36.5, 5.7),
    "143": (60.5, 9.1),
    "190": (127.1, None),
    RESNET_50: (25.6, 4.1),
}

# Exact counts of this implementation (params, multiply-adds); any change to the builder shows here.
GOLDEN = {
    "49": (22_088_488, 3_477_940_224),
    RESNET_50: (25_557_032, 4_089_184_256),
}


def allowed_difference(published: float) -> float:
    """max(1%, half a unit of the figure's last published digit, relative to the figure)."""
    half_unit = Decimal(5).scaleb(Decimal(str(published)).as_tuple().exponent - 1)
    return max(0.01, float(half_unit) / published)


pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def rows():
    return {row.model: row for row in imagenet_table_rows()}


def test_the_table_constant_is_the_papers():
    assert {row.model: (row.params_m, row.flops_b) for row in IMAGENET_TABLE} == PAPER_IMAGENET


@pytest.mark.parametrize("model", list(PAPER_IMAGENET))
def test_params_and_flops_match_the_papers_imagenet_table(rows, model):
    row, (paper_params, paper_flops) = rows[model], PAPER_IMAGENET[model]
    paper = f"{paper_params}M / {'-' if paper_flops is None else f'{paper_flops}B'}"
    measured = f"{model}: ours {row.params / 1e6:.3f}M / {row.multiply_adds / 1e9:.3f}B, paper {paper}"
    assert abs(row.params / (paper_params * 1e6) - 1) <= allowed_difference(paper_params), measured
    assert row.params_difference == pytest.approx(row.params / (paper_params * 1e6) - 1)
    if paper_flops is not None:
        assert abs(row.multiply_adds / (paper_flops * 1e9) - 1) <= allowed_difference(paper_flops), measured
        assert row.flops_difference == pytest.approx(row.multiply_adds / (paper_flops * 1e9) - 1)
    if model in GOLDEN:
        assert (row.params, row.multiply_adds) == GOLDEN[model], measured


def test_allowed_difference_is_the_larger_of_one_percent_and_the_rounding():
    assert allowed_difference(3.5) == pytest.approx(0.05 / 3.5)  # 1.43%
    assert allowed_difference(127.1) == 0.01


def test_the_head_conv_adds_a_1x1_conv_and_its_batch_norm():
    config = ModelConfig.from_scaling("49")
    plain = describe_classifier(SPINENET_49, config)
    with_conv = describe_classifier(SPINENET_49, config, head_conv=True)
    channels = config.endpoints_num_filters
    assert with_conv[0] - plain[0] == channels * channels + 2 * channels  # conv without bias, BN gamma and beta
    assert with_conv[1] - plain[1] == channels * channels * 28 * 28  # at L3 of a 224 px input


def test_aggregate_all_resizes_and_adds_two_levels_exactly():
    top = torch.tensor([[1.0, 2.0], [3.0, 4.0]]).reshape(1, 1, 2, 2)
    bottom = torch.full((1, 1, 4, 4), 10.0)
    out = AggregateAll()(OrderedDict([("3", bottom), ("4", top)]))
    expected = torch.tensor([[5.5, 5.5, 6.0, 6.0], [5.5, 5.5, 6.0, 6.0], [6.5, 6.5, 7.0, 7.0], [6.5, 6.5, 7.0, 7.0]])
    assert torch.equal(out, expected.reshape(1, 1, 4, 4))


def test_aggregate_all_resizes_the_running_sum_level_by_level():
    """At 40 px, L5/L4/L3 are 2/3/5 wide: resizing the running sum 2 -> 3 -> 5 (TF's order) picks
    other pixels than resizing L5 straight to 5 would ([0, 0, 0, 3, 3])."""
    features = {
        "5": torch.tensor([0.0, 3.0]).reshape(1, 1, 1, 2),
        "4": torch.full((1, 1, 1, 3), 6.0),
        "3": torch.full((1, 1, 1, 5), 3.0),
    }
    out = AggregateAll()(features)  # (([0, 3] -> [0, 0, 3]) + 6 -> [6, 6, 6, 6, 9]) + 3, / 3
    assert torch.equal(out, torch.tensor([3.0, 3.0, 3.0, 3.0, 4.0]).reshape(1, 1, 1, 5))


@pytest.mark.parametrize("spec", [SPINENET_49, None], ids=["spinenet-49", "r50-fpn"])
def test_logits_shape_at_a_tiny_width(spec):
    torch.manual_seed(0)
    classifier = build_classifier(spec, TINY, num_classes=7, dropout=0.5)
    images = torch.randn(2, 3, 64, 64)
    assert classifier(images).shape == (2, 7)
    features = classifier.backbone(images)
    assert classifier.head.aggregate(features).shape == (2, 16, 8, 8)  # L3 of 64 px


def test_dropout_is_off_in_eval_mode():
    torch.manual_seed(0)
    classifier = build_classifier(SPINENET_49, TINY, num_classes=5, dropout=0.5).eval()
    images = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        assert torch.equal(classifier(images), classifier(images))
    pooled = torch.ones(4, 16)
    classifier.head.train()
    assert not torch.equal(classifier.head.dropout(pooled), pooled)


def test_head_conv_parameter_count_on_a_real_model():
    plain = build_classifier(SPINENET_49, TINY, num_classes=5)
    with_conv = build_classifier(SPINENET_49, TINY, num_classes=5, head_conv=True)
    assert count_params(with_conv) - count_params(plain) == 16 * 16 + 2 * 16
    assert describe_classifier(SPINENET_49, TINY, num_classes=5, image_size=64)[0] == count_params(plain)


def test_the_linear_layer_starts_like_tensorflow_tpus_dense_layer():
    torch.manual_seed(0)
    head = ClassificationHead(16, 1000)
    assert torch.equal(head.logits.bias, torch.zeros(1000))
    assert head.logits.weight.std().item() == pytest.approx(0.01, rel=0.05)


@pytest.mark.parametrize("num_classes", [0, -3, 2.5, True, "10"])
def test_bad_num_classes_is_a_user_error(num_classes):
    with pytest.raises(UserInputError, match="num_classes .* must be a positive integer"):
        build_classifier(SPINENET_49, TINY, num_classes=num_classes)


@pytest.mark.parametrize("dropout", [-0.1, 1.0, 1.5])
def test_bad_dropout_is_a_user_error(dropout):
    with pytest.raises(UserInputError, match=r"dropout .* must be a rate in \[0, 1\)"):
        build_classifier(SPINENET_49, TINY, num_classes=10, dropout=dropout)
