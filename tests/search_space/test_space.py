"""The decision sequence: step order, masks, seeded sampling (10,000 samples), mutation."""

import random

import pytest

from search_space.errors import SpecError
from search_space.seeds import seed_names
from search_space.space import SearchSpace
from search_space.space_options import SpaceOptions

SEEDS = seed_names()
ORDERINGS = ("searched", "hourglass", "fish")

# sample(0, 0) of the resnet50 space: fixed for good (a sampler rebuilt after a crash must agree)
GOLDEN_RESNET50_S0_K0 = (
    0, 2, 3, 2, 2, 1, 1, 2, 2, 1, 3, 0, 1, 4, 2, 2, 0, 0, 1, 1, 1, 0, 2, 0, 1, 0, 1, 3, 1, 0, 2, 3, 1, 0, 2,
    1, 1, 3, 4, 3, 0, 2, 3, 1, 1, 3, 4, 2, 1, 3, 4, 2, 1, 1, 2, 1, 6, 11, 1, 4, 5, 0, 0, 6, 0, 10, 14, 1, 1, 13,
)  # fmt: skip
GOLDEN_R0SP53_S0_K0 = (
    0, 2, 3, 2, 2, 1, 1, 2, 2, 1, 3, 0, 1, 4, 2, 0, 1, 1, 2, 0, 2, 1, 4, 2, 3, 2, 3, 0, 4, 3, 4, 1, 4, 3, 4,
    0, 3, 3, 8, 6, 13, 13, 14, 9, 13,
)  # fmt: skip
# the spec of GOLDEN_RESNET50_S0_K0: (level, block_fn initial, inputs, is_output) per block
GOLDEN_RESNET50_BLOCKS = (
    (3, "b", (0, 1), False), (4, "r", (0, 2), False), (4, "r", (0, 1), False), (6, "r", (0, 2), False),
    (6, "r", (1, 3), False), (3, "r", (5, 6), False), (5, "b", (5, 6), False), (4, "r", (7, 8), False),
    (5, "r", (8, 9), False), (4, "r", (7, 8), False), (6, "r", (6, 11), True), (3, "r", (4, 5), True),
    (4, "b", (0, 6), True), (7, "b", (10, 14), True), (5, "r", (1, 13), True),
)  # fmt: skip


def test_resnet50_step_sequence_is_the_documented_one():
    space = SearchSpace.from_seed("resnet50")
    kinds = [s.kind for s in space.steps]
    assert kinds[:15] == ["base_level"] * 10 + ["output_level"] * 5
    assert kinds[15:55] == ["level_offset", "block_fn", "parent0", "parent1"] * 10
    assert kinds[55:] == ["block_fn", "parent0", "parent1"] * 5
    assert [s.index for s in space.steps] == list(range(70))
    assert space.steps[0].options == (2, 3, 4, 5) and space.steps[10].options == (3, 4, 5, 6, 7)
    # intermediate at feature 8: window of the last 5 features; output at feature 16: all 16 earlier
    assert [s.options for s in space.steps if s.feature == 8 and s.kind == "parent0"] == [(3, 4, 5, 6, 7)]
    assert [s.options for s in space.steps if s.feature == 16 and s.kind == "parent1"] == [tuple(range(16))]


@pytest.mark.parametrize("seed_name", SEEDS)
def test_adjustment_steps_follow_the_switch(seed_name):
    on = SearchSpace.from_seed(seed_name, adjustments=True)
    off = SearchSpace.from_seed(seed_name, adjustments=False)
    assert {s.kind for s in off.steps}.isdisjoint({"level_offset", "block_fn"})
    assert sum(s.kind == "level_offset" for s in on.steps) == on.num_intermediate
    assert sum(s.kind == "block_fn" for s in on.steps) == on.num_intermediate + on.num_output


@pytest.mark.parametrize("ordering", ["hourglass", "fish"])
def test_fixed_ordering_leaves_out_the_level_picks(ordering):
    space = SearchSpace.from_seed("resnet50", ordering=ordering)
    assert not any(s.kind in ("base_level", "output_level") for s in space.steps)
    assert len(space.steps) == 55
    spec = space.decode(space.sample(1, 0))
    base = [
        b.level
        for b in SearchSpace.from_seed("resnet50", ordering=ordering, adjustments=False).sample_spec(1, 0).blocks
    ]
    assert [b.level for b in spec.blocks if b.is_output] == base[10:]


def test_hourglass_and_fish_shapes():
    hourglass = SearchSpace.from_seed("resnet50", ordering="hourglass")
    fish = SearchSpace.from_seed("resnet50", ordering="fish")
    assert hourglass.fixed_bases == (2, 3, 3, 3, 4, 4, 4, 4, 4, 5) and hourglass.fixed_outputs == (7, 6, 5, 4, 3)
    assert fish.fixed_bases == (2, 3, 4, 5, 4, 4, 4, 4, 3, 3) and fish.fixed_outputs == (3, 4, 5, 6, 7)


def _walk_all_masks(space, decisions):
    masks = space.masks(decisions)
    assert len(masks) == len(space.steps)
    for k, mask in enumerate(masks):
        assert len(mask) == len(space.steps[k].options)
        assert any(mask), f"step {k} masked out every option"
        assert mask[decisions[k]]
    return masks


@pytest.mark.parametrize("seed_name", SEEDS)
@pytest.mark.parametrize("ordering", ORDERINGS)
def test_masks_never_empty_and_agree_with_prefix_masks(seed_name, ordering):
    space = SearchSpace.from_seed(seed_name, ordering=ordering, adjustments=True)
    for k in range(30):
        decisions = space.sample(11, k)
        masks = _walk_all_masks(space, decisions)
        if k < 2:
            assert masks == tuple(space.mask(decisions[:i]) for i in range(len(decisions)))


def test_masks_at_the_edges_of_the_rules():
    space = SearchSpace.from_seed("resnet50")
    assert space.mask([]) == (True, True, True, True)
    assert space.mask([0]) == (False, True, True, True)  # the one L2 base level is used up
    d = space.sample(0, 0)
    parent0 = next(s for s in space.steps if s.kind == "parent0" and s.feature == 6)
    assert space.mask(d[: parent0.index]) == (True, True, True, True, False)  # never the last candidate
    assert space.mask(list(d[: parent0.index]) + [2]) == (False, False, False, True, True)  # above the first


@pytest.mark.parametrize("seed_name", SEEDS)
def test_decode_rejects_masked_and_out_of_range_decisions(seed_name):
    space = SearchSpace.from_seed(seed_name)
    good = list(space.sample(0, 0))
    p1 = next(s.index for s in space.steps if s.kind == "parent1")
    bad = good[:p1] + [0] + good[p1 + 1 :]
    with pytest.raises(SpecError, match="masked option"):
        space.decode(bad)
    with pytest.raises(SpecError, match="option index"):
        space.decode(good[:-1] + [99])
    with pytest.raises(SpecError, match="exactly"):
        space.decode(good[:-1])


def test_golden_samples_for_a_fixed_seed():
    resnet50 = SearchSpace.from_seed("resnet50")
    assert resnet50.sample(0, 0) == GOLDEN_RESNET50_S0_K0
    assert SearchSpace.from_seed("r0-sp53").sample(0, 0) == GOLDEN_R0SP53_S0_K0
    assert resnet50.draw(random.Random("sample:0:0")) == GOLDEN_RESNET50_S0_K0  # sample = draw on its own stream
    spec = resnet50.decode(GOLDEN_RESNET50_S0_K0)
    got = tuple((b.level, b.block_fn[0], b.inputs, b.is_output) for b in spec.blocks)
    assert got == GOLDEN_RESNET50_BLOCKS


def test_sample_depends_only_on_seed_and_index():
    space = SearchSpace.from_seed("resnet50")
    forward = [space.sample(5, k) for k in range(20)]
    assert [space.sample(5, k) for k in reversed(range(20))] == forward[::-1]
    assert SearchSpace.from_seed("resnet50").sample(5, 7) == forward[7]
    assert len(set(forward)) == 20 and space.sample(6, 0) != forward[0]


def test_ten_thousand_seeded_samples_validate_and_round_trip():
    space = SearchSpace.from_seed("resnet50")
    for k in range(10_000):
        decisions = space.sample(2026, k)
        spec = space.decode(decisions, name=f"s{k}")  # ArchSpec validates when built
        canonical = space.encode(spec)
        assert space.decode(canonical, name=f"s{k}") == spec
        assert len(decisions) == len(canonical) == 70


@pytest.mark.parametrize("seed_name", SEEDS)
@pytest.mark.parametrize("ordering", ORDERINGS)
def test_samples_round_trip_in_every_space(seed_name, ordering):
    space = SearchSpace.from_seed(seed_name, ordering=ordering)
    for k in range(100):
        spec = space.sample_spec(3, k)
        assert spec.name == f"{seed_name}-s3-{k}"
        assert space.decode(space.encode(spec), name=spec.name) == spec
        assert space.contains(spec) == (True, "")


@pytest.mark.parametrize("seed_name", SEEDS)
def test_mutation_is_valid_different_and_touches_one_decision_and_its_fallout(seed_name):
    space = SearchSpace.from_seed(seed_name, adjustments=True)
    rng = random.Random(1)
    for k in range(150):
        parent = space.sample(9, k)
        child = space.mutate(parent, rng)
        assert space.decode(child) != space.decode(parent)
        first = next(i for i, (a, b) in enumerate(zip(parent, child)) if a != b)
        masks = space.masks(child)
        for j in range(first + 1, len(child)):  # later decisions change only when made invalid
            if masks[j][parent[j]]:
                assert child[j] == parent[j]


def test_mutation_golden_and_reproducible():
    space = SearchSpace.from_seed("resnet50")
    child = space.mutate(GOLDEN_RESNET50_S0_K0, random.Random(0))
    diff = [(i, a, b) for i, (a, b) in enumerate(zip(GOLDEN_RESNET50_S0_K0, child)) if a != b]
    assert diff == [(49, 3, 1)]
    assert space.mutate(GOLDEN_RESNET50_S0_K0, random.Random(0)) == child


def test_mutation_of_a_one_spec_space_is_a_user_error():
    options = SpaceOptions(
        name="one", intermediate_levels=(), output_levels=(3,), level_offsets=(0,), block_fns=("bottleneck",)
    )
    space = SearchSpace(options)
    only = space.sample(0, 0)
    assert only == (0, 1)  # parent options (0, 1): first 0, second 1 is the only pair
    with pytest.raises(SpecError, match="no mutation"):
        space.mutate(only, random.Random(0))


def test_options_are_printable_and_serializable():
    options = SearchSpace.from_seed("r35-sp18", ordering="fish", window=4).options
    data = options.to_dict()
    assert data["ordering"] == "fish" and data["window"] == 4 and data["stem"][0] == [2, "bottleneck"]
    assert SpaceOptions.from_dict(data) == options
    assert "r35-sp18" in repr(options)


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"window": 1}, "window 1 is below 2"),
        ({"level_offsets": (1, 2)}, "must be distinct and include 0"),
        ({"block_fns": ("mbconv",)}, "non-empty subset"),
        ({"ordering": "spiral"}, "ordering 'spiral' is unknown"),
        ({"output_levels": (3, 5)}, "consecutive"),
        ({"stem": ((2, "bottleneck"),)}, "at least two stem blocks"),
        ({"colour": "red"}, r"unknown search-space option\(s\) \['colour'\]"),
    ],
)
def test_bad_options_are_user_errors(overrides, message):
    with pytest.raises(SpecError, match=message):
        SearchSpace.from_seed("resnet50", **overrides)


def test_options_need_a_name():
    with pytest.raises(SpecError, match="space name '' must be a non-empty string"):
        SpaceOptions.from_dict({"name": ""})


def test_unknown_seed_lists_the_known_ones():
    with pytest.raises(SpecError, match="known: resnet50, r0-sp53"):
        SearchSpace.from_seed("resnet51")
