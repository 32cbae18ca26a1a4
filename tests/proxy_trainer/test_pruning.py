"""Dead blocks are pruned as TF Model Garden prunes them: TF's own parameter counts (pinned),
a count from the spec alone by formula for 200+ random specs, and a hand-made dead block."""

from __future__ import annotations

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from proxy_trainer.modeling.detector import build_backbone
from proxy_trainer.modeling.model_config import ModelConfig
from search_space import ArchSpec, BlockSpec, SearchSpace, get_builtin, get_scaling

# Backbone trainable parameters as TF Model Garden (tf-models-official 2.20, tensorflow-cpu 2.21)
# builds them: model ids at min_level 3, max_level 7, 640 px.
TF_SCALED_SPINENET_49 = {"49S": 9_089_215, "49": 21_831_488, "96": 36_262_976, "143": 60_247_616, "190": 126_587_664}
# Seeded samples with dead blocks (nas sample --space S --n N --seed 7), built by TF at model 49.
TF_SAMPLES = {("resnet50", 2): 15_328_192, ("resnet50", 13): 17_253_824, ("r0-sp53", 4): 19_281_856}
TF_SAMPLE_DEAD = {("resnet50", 2): (6, 8, 9), ("resnet50", 13): (8, 10), ("r0-sp53", 4): (7,)}
TF_SPINENET_49_BACKBONE_MACS_640 = 28_261_990_400  # conv multiply-adds of TF's graph, op by op
TF_MODEL_GARDEN_LIST_MIN_LEVEL_2 = 22_034_688  # Model Garden's 16-entry list at min_level 2 (make check-tf)


def backbone(spec: ArchSpec, model: str = "49", **overrides):
    with torch.device("meta"):
        return build_backbone(spec, ModelConfig.from_scaling(model, **overrides))


def params(spec: ArchSpec, model: str = "49", **overrides) -> int:
    return sum(p.numel() for p in backbone(spec, model, **overrides).parameters())


@pytest.mark.parametrize("model", sorted(TF_SCALED_SPINENET_49))
def test_spinenet_49_at_every_scale_has_tfs_parameter_count(model):
    assert params(get_builtin("spinenet-49"), model) == TF_SCALED_SPINENET_49[model]


@pytest.mark.parametrize("space, k", sorted(TF_SAMPLES))
def test_samples_with_dead_blocks_have_tfs_parameter_count(space, k):
    spec = SearchSpace.from_seed(space).sample_spec(7, k)
    assert dead_features_by_hand(spec) == TF_SAMPLE_DEAD[space, k]
    assert params(spec) == TF_SAMPLES[space, k]


def test_model_gardens_16_entry_list_uses_its_l2_output_only_at_min_level_2():
    from search_space import from_tf_text, to_tf_text

    text = to_tf_text(get_builtin("spinenet-49")).replace("]\n", "    (2, 'bottleneck', (2, 13), True),\n]\n")
    spec = from_tf_text(text)
    assert params(spec) == TF_SCALED_SPINENET_49["49"]
    assert params(spec, min_level=2) == TF_MODEL_GARDEN_LIST_MIN_LEVEL_2
    assert list(backbone(spec, min_level=2)(torch.empty(1, 3, 640, 640, device="meta"))) == ["2", "3", "4", "5", "6", "7"]


def test_spinenet_49_backbone_multiply_adds_equal_tfs_graph():
    model = backbone(get_builtin("spinenet-49")).eval()
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        model(torch.empty(1, 3, 640, 640, device="meta"))
    assert counter.get_total_flops() // 2 == TF_SPINENET_49_BACKBONE_MACS_640


def test_a_dead_block_costs_nothing():
    sp49 = get_builtin("spinenet-49")
    extra = BlockSpec(4, "bottleneck", (2, 13), False)  # a 16th block that nothing takes
    spec = ArchSpec("sp49-plus-dead", sp49.blocks + (extra,))
    model = backbone(spec)
    assert "15" not in model.blocks and "15" not in model.resamples
    assert params(spec) == params(sp49)
    assert formula_params(spec, get_scaling("49"), dead=()) - formula_params(spec, get_scaling("49")) == (
        block_formula(spec, 15, get_scaling("49"))
    )


def test_a_dead_stem_block_is_not_built():
    b, r = "bottleneck", "residual"
    spec = ArchSpec("dead-stem", (
        BlockSpec(3, r, (0, 1), True), BlockSpec(4, b, (0, 3), True), BlockSpec(5, b, (3, 4), True),
        BlockSpec(6, b, (4, 5), True), BlockSpec(7, b, (5, 6), True),
    ), stem=((2, b), (2, b), (3, b)))  # nothing takes stem block 2, and no L3 bottleneck output merges it
    assert dead_features_by_hand(spec) == (2,)
    assert len(backbone(spec).stem_blocks) == 2
    assert params(spec) == formula_params(spec, get_scaling("49"))


# ---- the count from the spec alone (no proxy_trainer.modeling below this line) -----------------
WIDTHS = {1: 32, 2: 64, 3: 128, 4: 256, 5: 256, 6: 256, 7: 256}  # TF FILTER_SIZE_MAP


def conv_bn(c_in: int, c_out: int, kernel: int) -> int:
    return kernel * kernel * c_in * c_out + 2 * c_out  # no conv bias; BN gamma and beta


def group_params(fn: str, c_in: int, filters: int, repeats: int, stride: int = 1) -> int:
    """A block group: the first block projects when the width changes or it strides, the
    repeats never do."""
    out = 4 * filters if fn == "bottleneck" else filters
    total = 0
    for i in range(repeats):
        c = c_in if i == 0 else out
        if fn == "bottleneck":
            total += conv_bn(c, filters, 1) + conv_bn(filters, filters, 3) + conv_bn(filters, out, 1)
        else:
            total += conv_bn(c, filters, 3) + conv_bn(filters, filters, 3)
        total += conv_bn(c, out, 1) if c != out or (i == 0 and stride > 1) else 0
    return total


def _filters(level: int, scale: float) -> int:
    return int(WIDTHS[level] * scale)


def _channels(spec: ArchSpec, feature: int, scale: float) -> int:
    level, fn = spec.feature_level(feature), spec.feature_block_fn(feature)
    return (4 if fn == "bottleneck" else 1) * _filters(level, scale)


def block_formula(spec: ArchSpec, k: int, scaling) -> int:
    """Block k: one resampling per parent (squeeze, a strided conv when going down, expand) + its group."""
    block, scale = spec.blocks[k], scaling.filter_size_scale
    filters = _filters(block.level, scale)
    target = (4 if block.block_fn == "bottleneck" else 1) * filters
    total = group_params(block.block_fn, target, filters, scaling.block_repeats)
    for parent in block.inputs:
        middle = int(_filters(spec.feature_level(parent), scale) * scaling.resample_alpha)
        total += conv_bn(_channels(spec, parent, scale), middle, 1) + conv_bn(middle, target, 1)
        total += conv_bn(middle, middle, 3) if spec.feature_level(parent) < block.level else 0
    return total


def dead_features_by_hand(spec: ArchSpec) -> tuple[int, ...]:
    """TF's build: out-degrees in block order (every block counts), merges of zero-out-degree
    same-level same-type features into outputs; then what the endpoints reach back."""
    degree, sources = [0] * spec.num_features, {f: [f - 1] if f else [] for f in range(spec.num_stem)}
    for k, block in enumerate(spec.blocks):
        f = spec.num_stem + k
        sources[f] = list(block.inputs)
        for parent in block.inputs:
            degree[parent] += 1
        if block.is_output:
            for j in range(f):
                if degree[j] == 0 and spec.feature_level(j) == block.level and spec.feature_block_fn(j) == block.block_fn:
                    degree[j] += 1
                    sources[f].append(j)
    todo = [spec.num_stem + k for k, b in enumerate(spec.blocks) if b.is_output and spec.min_level <= b.level <= spec.max_level]
    reached = set()
    while todo:
        f = todo.pop()
        if f not in reached:
            reached.add(f)
            todo += sources[f]
    return tuple(f for f in range(spec.num_features) if f not in reached)


def formula_params(spec: ArchSpec, scaling, dead: tuple[int, ...] | None = None) -> int:
    """Stem conv + live stem groups + live blocks + one 1x1 endpoint per output level."""
    dead = dead_features_by_hand(spec) if dead is None else dead
    scale, repeats = scaling.filter_size_scale, scaling.block_repeats
    total, c_in, previous = conv_bn(3, 64, 7), 64, 2
    for f, (level, fn) in enumerate(spec.stem):
        if f not in dead:
            total += group_params(fn, c_in, _filters(level, scale), repeats, 2 ** (level - previous))
        c_in, previous = _channels(spec, f, scale), level
    total += sum(block_formula(spec, k, scaling) for k in range(len(spec.blocks)) if spec.num_stem + k not in dead)
    outputs = spec.output_features()
    return total + sum(conv_bn(_channels(spec, outputs[lv], scale), scaling.endpoints_num_filters, 1)
                       for lv in range(spec.min_level, spec.max_level + 1))


SPACES = {name: SearchSpace.from_seed(name) for name in ("resnet50", "r0-sp53", "r14-sp39", "r35-sp18")}


@pytest.mark.parametrize("model, per_space", [("49", 50), ("143", 2)])
def test_pruned_count_equals_the_formula_for_random_specs(model, per_space):
    """200 specs at model 49 (plus 8 at 143: repeats and alpha 1), many with dead blocks."""
    scaling, with_dead = get_scaling(model), 0
    for space in SPACES.values():
        for k in range(per_space):
            spec = space.sample_spec(11, k)
            with_dead += bool(dead_features_by_hand(spec))
            assert params(spec, model) == formula_params(spec, scaling), spec.name
    print(f"{with_dead} of {per_space * len(SPACES)} specs have dead blocks")
    assert with_dead >= (30 if model == "49" else 1)
