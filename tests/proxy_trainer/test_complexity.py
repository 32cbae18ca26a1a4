"""Params and FLOPs (multiply-adds) against the paper's table (docs/facts.md §4.2, §4.3).

Each row must stay within its tolerance of the paper's numbers (1%, 2% for R50-FPN); exact
golden counts catch any drift inside the tolerance too.
"""

from __future__ import annotations

import pytest

from proxy_trainer.complexity import count_params_flops, describe_model
from proxy_trainer.modeling.detector import build_detector
from proxy_trainer.modeling.model_config import ModelConfig
from search_space import get_builtin
from search_space.ablations import DAMAGES, damage_connections

SPINENET_49 = get_builtin("spinenet-49")

# (spec or None for R50-FPN, scaling, input, paper params (M) [low, high], paper FLOPs (B) [low, high], tolerance)
PAPER_TABLE = {
    "49@640": (SPINENET_49, "49", 640, (28.5, 28.5), (85.4, 85.4), 0.01),
    "49@896": (SPINENET_49, "49", 896, (28.5, 28.5), (167.4, 167.4), 0.01),
    "96@1024": (SPINENET_49, "96", 1024, (43.0, 43.0), (265.4, 265.4), 0.01),
    "143@1280": (SPINENET_49, "143", 1280, (66.9, 67.0), (524.0, 524.4), 0.01),
    "190@1280": (SPINENET_49, "190", 1280, (163.6, 163.6), (1885.0, 1885.0), 0.01),
    "49S-paper@640": (SPINENET_49, "49S-paper", 640, (11.9, 12.0), (33.8, 33.8), 0.01),
    "49S@640 (official map, reference count)": (SPINENET_49, "49S", 640, (11.25, 11.25), (30.7, 30.7), 0.01),
    "R50-FPN@640": (None, "49", 640, (34.0, 34.0), (97.0, 97.0), 0.02),
}

# Exact counts of this implementation (params, multiply-adds); any change to the builder shows here.
GOLDEN = {
    "49@640": (28_522_638, 85_104_780_800),
    "49S@640 (official map, reference count)": (11_255_565, 30_690_153_975),
    "R50-FPN@640": (34_067_854, 96_703_424_000),
}


def within(value: float, bounds: tuple[float, float], tolerance: float) -> bool:
    low, high = bounds
    return low * (1 - tolerance) <= value <= high * (1 + tolerance)


@pytest.mark.parametrize("row", list(PAPER_TABLE))
def test_params_and_flops_match_the_paper(row):
    spec, model, size, paper_params, paper_flops, tolerance = PAPER_TABLE[row]
    params, madds = count_params_flops(spec, ModelConfig.from_scaling(model), image_size=size)
    assert within(params / 1e6, paper_params, tolerance), f"{row}: {params / 1e6:.2f}M vs paper {paper_params}"
    assert within(madds / 1e9, paper_flops, tolerance), f"{row}: {madds / 1e9:.1f}B vs paper {paper_flops}"
    if row in GOLDEN:
        assert (params, madds) == GOLDEN[row]


def test_meta_count_equals_a_real_detector():
    config = ModelConfig(filter_size_scale=0.125, endpoints_num_filters=16, head_num_filters=16, head_num_convs=2)
    detector = build_detector(SPINENET_49, config, num_classes=5, image_size=128)
    real = sum(p.numel() for part in (detector.backbone, detector.head) for p in part.parameters())
    assert count_params_flops(SPINENET_49, config, num_classes=5, image_size=128)[0] == real


def test_level_shapes_and_class_dependence():
    config = ModelConfig.from_scaling("49S")
    summary = describe_model(SPINENET_49, config, num_classes=90, image_size=256)
    assert summary.level_shapes == {lv: (1, 128, 256 // 2**lv, 256 // 2**lv) for lv in range(3, 8)}
    fewer = describe_model(SPINENET_49, config, num_classes=80, image_size=256)
    # only the class output conv changes: 3x3 x 128 in x 9 anchors x 10 classes, plus 90 biases
    assert summary.params - fewer.params == 9 * 128 * 9 * 10 + 90


def test_damaged_connections_cost_less_than_the_intact_spec():
    """Table 9 ablations drop one resampling per block: fewer params and FLOPs, same levels."""
    config = ModelConfig.from_scaling("49")
    intact = count_params_flops(get_builtin("r0-sp53"), config, image_size=640)
    for damage in DAMAGES:
        damaged = count_params_flops(damage_connections(get_builtin("r0-sp53"), damage), config, image_size=640)
        assert damaged[0] < intact[0] and damaged[1] < intact[1], damage


def test_norm_elements_scale_with_area_and_spinenet49_moves_more_than_r50_fpn():
    proxy = ModelConfig(filter_size_scale=0.25, resample_alpha=0.25, endpoints_num_filters=64, head_num_filters=64)
    small, large = (describe_model(SPINENET_49, proxy, num_classes=8, image_size=s).norm_elements for s in (128, 256))
    assert large == 4 * small  # every level's map is 4x larger when 128 divides the input
    assert large == 5615744  # exact count of this implementation
    assert describe_model(None, proxy, num_classes=8, image_size=256).norm_elements == 4851712
