"""Seed allocations against the paper's Table 1 (docs/facts.md §1.1) and the adjustment switches."""

import re
from collections import Counter

import pytest

from search_space.seeds import SEEDS, seed_options
from search_space.space import SearchSpace

# Table 1 as transcribed in docs/facts.md §1.1: stem {L2..L5}, scale-permuted {L2..L7}
TABLE1 = {
    "r35-sp18": ((2, 3, 5, 1), (1, 1, 1, 1, 1, 1)),
    "r23-sp30": ((2, 2, 2, 1), (1, 2, 4, 1, 1, 1)),
    "r14-sp39": ((1, 1, 1, 1), (2, 3, 5, 1, 1, 1)),
    "r0-sp53": ((2, 0, 0, 0), (1, 4, 6, 2, 1, 1)),
    "resnet50": ((2, 0, 0, 0), (1, 4, 6, 2, 1, 1)),  # SpineNet-49's space starts from R0-SP53's blocks
}


def _counts(levels, lowest, highest):
    counts = Counter(levels)
    return tuple(counts[lv] for lv in range(lowest, highest + 1))


@pytest.mark.parametrize("name", sorted(TABLE1))
def test_allocations_match_table1(name):
    options = seed_options(name)
    stem_row, sp_row = TABLE1[name]
    assert all(fn == "bottleneck" for _, fn in options.stem)
    assert _counts([lv for lv, _ in options.stem], 2, 5) == stem_row
    assert _counts(options.intermediate_levels + options.output_levels, 2, 7) == sp_row
    assert options.output_levels == (3, 4, 5, 6, 7)


@pytest.mark.parametrize("name", [n for n in TABLE1 if n != "resnet50"])
def test_layer_arithmetic_of_the_names(name):
    """R[N]-SP[M]: 3 layers per bottleneck, +2 for the first conv and the classifier (docs/facts.md §1.1);
    R0 counts its two L2 stem blocks in the SP part."""
    n, m = map(int, re.fullmatch(r"r(\d+)-sp(\d+)", name).groups())
    options = seed_options(name)
    stem, sp = len(options.stem), len(options.intermediate_levels) + len(options.output_levels)
    if n == 0:
        assert 3 * (stem + sp) + 2 == m
    else:
        assert (3 * stem + 2, 3 * sp) == (n, m)


@pytest.mark.parametrize("name", [n for n in SEEDS if n != "resnet50"])
def test_rn_spm_seeds_search_orderings_and_connections_only(name):
    options = seed_options(name)
    assert not options.adjustments
    assert options.level_offsets == (0,) and options.block_fns == ("bottleneck",)
    switched = seed_options(name, adjustments=True)
    assert switched.level_offsets == (-1, 0, 1, 2) and switched.block_fns == ("bottleneck", "residual")


def test_resnet50_seed_has_the_paper_adjustments_and_can_switch_them_off():
    assert seed_options("resnet50").adjustments
    off = seed_options("resnet50", adjustments=False)
    assert not off.adjustments
    assert seed_options("resnet50", adjustments=False, block_fns=("bottleneck", "residual")).block_fns == (
        "bottleneck",
        "residual",
    )  # an explicit field wins over the switch


@pytest.mark.parametrize("name", sorted(SEEDS))
def test_every_stem_block_is_a_candidate_parent_of_the_outputs(name):
    space = SearchSpace.from_seed(name)
    first_output = space.num_stem + space.num_intermediate
    parents = [s.options for s in space.steps if s.kind == "parent0" and s.feature == first_output]
    assert parents == [tuple(range(first_output))]


def test_r35_sp18_has_a_single_fixed_intermediate_and_searches_outputs():
    space = SearchSpace.from_seed("r35-sp18")
    assert space.fixed_bases == (2,) and space.fixed_outputs is None
    assert [s.kind for s in space.steps][:5] == ["output_level"] * 5
    assert [s.options for s in space.steps if s.feature == 11] == [tuple(range(6, 11))] * 2  # window 5
