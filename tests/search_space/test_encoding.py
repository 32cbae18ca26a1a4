"""Canonical encoding: decode(encode(s)) == s, the documented offset rule, and `contains`."""

import pytest

from search_space.builtins import get_builtin, scale_decreased_tuples, spec_from_tuples
from search_space.encoding import canonical_bases, offset_preference
from search_space.errors import SpecError
from search_space.space import SearchSpace

# (space seed, space overrides, built-in, expected in space, fragment of the reason when not)
CONTAINS = [
    ("r0-sp53", {}, "r0-sp53", True, ""),
    ("r0-sp53", {}, "r50-sd", True, ""),
    ("resnet50", {}, "spinenet-49", True, ""),
    ("resnet50", {}, "r0-sp53", True, ""),
    ("resnet50", {}, "r50-sd", True, ""),
    ("r0-sp53", {}, "spinenet-49", False, "has block_fn 'residual'; this space has only ['bottleneck']"),
    ("r0-sp53", {"block_fns": ("bottleneck", "residual")}, "spinenet-49", False, "cannot be made from base levels"),
    ("r0-sp53", {"window": 3}, "r0-sp53", False, "takes parent 4, outside its candidates 5..7"),
    ("resnet50", {"window": 3}, "spinenet-49", False, "window of the last 3 features"),
    ("resnet50", {"ordering": "hourglass"}, "r50-sd", False, "differ from the order [7, 6, 5, 4, 3]"),
    ("r0-sp53", {"ordering": "fish"}, "r50-sd", False, "fixes its base level at 4"),
    ("r35-sp18", {}, "r0-sp53", False, "stem"),
    ("resnet50", {"block_fns": ("bottleneck",)}, "spinenet-49", False, "block 1 (feature 3) has block_fn 'residual'"),
]


@pytest.mark.parametrize("seed_name, overrides, builtin, expected, reason", CONTAINS)
def test_contains_on_builtins(seed_name, overrides, builtin, expected, reason):
    space = SearchSpace.from_seed(seed_name, **overrides)
    inside, why = space.contains(get_builtin(builtin))
    assert inside is expected
    assert (why == "") if expected else (reason in why), why


@pytest.mark.parametrize("builtin", ["spinenet-49", "r0-sp53", "r50-sd"])
def test_builtins_round_trip_in_the_resnet50_space(builtin):
    space = SearchSpace.from_seed("resnet50")
    spec = get_builtin(builtin)
    decisions = space.encode(spec)
    assert space.decode(decisions, name=spec.name) == spec
    assert space.encode(space.decode(decisions)) == decisions  # canonical is a fixed point


def test_spinenet49_canonical_levels_and_decisions():
    space = SearchSpace.from_seed("resnet50")
    decisions = space.encode(get_builtin("spinenet-49"))
    # intermediate levels 2 4 3 4 6 4 5 7 5 5 from bases {2:1, 3:3, 4:5, 5:1}
    assert canonical_bases((2, 4, 3, 4, 6, 4, 5, 7, 5, 5), space.options.intermediate_levels, (-1, 0, 1, 2)) == (
        2, 4, 3, 4, 4, 4, 4, 5, 3, 3,
    )  # fmt: skip
    offsets = [
        space.steps[i].options[decisions[i]] for i in range(len(decisions)) if space.steps[i].kind == "level_offset"
    ]
    assert offsets == [0, 0, 0, 0, 2, 0, 1, 2, 2, 2]
    outputs = [space.steps[i].options[decisions[i]] for i in range(10, 15)]
    assert outputs == [4, 3, 5, 7, 6]  # P4, P3, P5, P7, P6 (docs/facts.md §3.1)


def test_offset_preference_is_smallest_magnitude_negative_first():
    assert offset_preference((-1, 0, 1, 2)) == [0, -1, 1, 2]
    assert offset_preference((2, -2, 1, 0, -1)) == [0, -1, 1, -2, 2]


def test_canonical_bases_keeps_offset_zero_when_possible_and_backtracks():
    assert canonical_bases((3, 2, 4), (2, 3, 4), (-1, 0, 1)) == (3, 2, 4)
    assert canonical_bases((3, 3), (2, 4), (-1, 0, 1)) == (4, 2)  # -1 is preferred to +1
    # level 2 would keep offset 0 (base 2), but then level 1 has only base 3 left: backtrack
    assert canonical_bases((2, 1), (2, 3), (-1, 0, 1)) == (3, 2)
    assert canonical_bases((5, 4), (4, 5), (-1, 0, 1)) == (5, 4)
    with pytest.raises(SpecError, match="cannot be made from base levels"):
        canonical_bases((7, 7), (2, 3), (-1, 0, 1, 2))


def test_encode_uses_the_fixed_order_of_a_shape():
    space = SearchSpace.from_seed("resnet50", ordering="fish")
    levels = (2, 3, 4, 5, 4, 4, 4, 4, 3, 3)
    spec = spec_from_tuples("fish-sd", scale_decreased_tuples(levels, range(3, 8)))
    decisions = space.encode(spec)
    offsets = [space.steps[i].options[d] for i, d in enumerate(decisions) if space.steps[i].kind == "level_offset"]
    assert offsets == [0] * 10
    assert space.decode(decisions, name="fish-sd") == spec


def test_encode_names_the_rule_a_spec_breaks():
    space = SearchSpace.from_seed("resnet50")
    short = spec_from_tuples("short", scale_decreased_tuples((2, 3), range(3, 8)))
    with pytest.raises(SpecError, match="7 blocks; the space has 10 intermediate"):
        space.encode(short)
    interleaved = spec_from_tuples("mixed", scale_decreased_tuples((2, 3, 3, 3, 4, 4, 4, 4, 4), (3, 5, 4, 6, 7)))
    assert not space.contains(interleaved)[0]
