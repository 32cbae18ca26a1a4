"""Search-space sizes: the paper's formulas (docs/facts.md §1.2) and the exact count of decision lists."""

import subprocess
import sys
from math import comb, factorial, prod

import pytest

from search_space.seeds import seed_names
from search_space.sizes import LABELS, decision_lists, distinct_level_sequences, distinct_specs, space_sizes
from search_space.space import SearchSpace
from search_space.space_options import SpaceOptions

TWO_L2 = ((2, "bottleneck"), (2, "bottleneck"))
# Small spaces whose decision lists can be enumerated one by one through the public `mask`.
TINY = {
    "offsets-clipped-at-L7": SpaceOptions(
        name="t1", stem=TWO_L2, intermediate_levels=(2, 7), output_levels=(3, 4),
        level_offsets=(-1, 0, 1), block_fns=("bottleneck",), window=2,
    ),
    "repeated-levels-and-types": SpaceOptions(
        name="t2", stem=TWO_L2, intermediate_levels=(3, 3, 4), output_levels=(5,),
        level_offsets=(0,), block_fns=("bottleneck", "residual"), window=2,
    ),
    "base-offset-collisions": SpaceOptions(
        name="t4", stem=TWO_L2, intermediate_levels=(2, 3), output_levels=(3, 4),
        level_offsets=(-1, 0, 1), block_fns=("bottleneck",), window=2,
    ),
    "fish-order": SpaceOptions(
        name="t3", stem=TWO_L2, intermediate_levels=(2, 3, 3), output_levels=(3, 4),
        level_offsets=(-1, 0), block_fns=("bottleneck",), window=2, ordering="fish",
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(TINY))
def test_counts_equal_brute_force_enumeration(case, all_decision_lists):
    space = SearchSpace(TINY[case])
    leaves = all_decision_lists(space)
    assert decision_lists(space) == len(leaves)
    specs = {space.decode(d) for d in leaves}
    assert distinct_specs(space) == len(specs)
    # bases (2, 3) + offsets (1, -1) give the levels of bases (3, 2) + offsets (0, 0)
    assert (len(specs) < len(leaves)) is (case == "base-offset-collisions")


def test_tiny_count_by_hand():
    # bases 2 orders x outputs 2 x offsets (L2: 3 valid, L7: 2 valid) x parents 1*1*C(4,2)*C(5,2)
    assert decision_lists(SearchSpace(TINY["offsets-clipped-at-L7"])) == 2 * 2 * 3 * 2 * 1 * 1 * 6 * 10


def test_resnet50_paper_counts():
    sizes = space_sizes(SearchSpace.from_seed("resnet50"))
    assert sizes.paper_orderings == factorial(15 - 5) * factorial(5) == 435_456_000
    assert sizes.paper_connections == prod(comb(i, 2) for i in range(2, 17))
    assert round(sizes.paper_connections / 1e20, 2) == 8.35  # docs/facts.md §1.2: ~8.35e20
    window = prod(comb(min(5, f), 2) for f in range(2, 12)) * prod(comb(f, 2) for f in range(12, 17))
    assert sizes.window_connections == window == 1_062_485_424_000_000_000  # docs/facts.md §1.2: ~1.06e18
    assert sizes.paper_level_offsets == 4**10 == 1_048_576
    assert sizes.paper_block_types == 2**15 == 32_768
    assert sizes.paper_total == 435_456_000 * sizes.paper_connections * 4**10 * 2**15


def test_resnet50_decision_lists_closed_form():
    # distinct base-level sequences of {2:1, 3:3, 4:5, 5:1} is a multinomial, not 10!;
    # every offset keeps its level inside [1, 7] for these bases
    multinomial = factorial(10) // (factorial(1) * factorial(3) * factorial(5) * factorial(1))
    assert multinomial == 5040
    sizes = space_sizes(SearchSpace.from_seed("resnet50"))
    assert sizes.decision_lists == multinomial * factorial(5) * 4**10 * 2**15 * sizes.window_connections


def test_resnet50_distinct_specs_collapse_base_and_offset():
    space = SearchSpace.from_seed("resnet50")
    assert distinct_level_sequences(space) == 79_506_231  # of 5040 * 4**10 level-pick/offset lists
    sizes = space_sizes(space)
    assert sizes.distinct_specs == 79_506_231 * 120 * 2**15 * sizes.window_connections


@pytest.mark.parametrize("name", [n for n in seed_names() if n != "resnet50"])
def test_rn_spm_sizes_have_no_adjustment_factors(name):
    space = SearchSpace.from_seed(name)
    sizes = space_sizes(space)
    assert sizes.paper_level_offsets == sizes.paper_block_types == 1
    n_int = space.num_intermediate
    assert sizes.paper_orderings == factorial(n_int) * factorial(5)
    m = space.num_stem
    assert sizes.paper_connections == prod(comb(i, 2) for i in range(m, m + n_int + 5))
    assert sizes.window_connections <= sizes.paper_connections


@pytest.mark.parametrize("ordering", ["hourglass", "fish"])
def test_fixed_orderings_count_one_ordering(ordering):
    fixed = space_sizes(SearchSpace.from_seed("resnet50", ordering=ordering))
    searched = space_sizes(SearchSpace.from_seed("resnet50"))
    assert fixed.paper_orderings == 1
    assert fixed.decision_lists * 5040 * 120 == searched.decision_lists


def test_sizes_and_orderings_stay_pure_standard_library():
    code = "import sys, search_space.sizes, search_space.orderings; print(sorted(m for m in ('torch', 'numpy', 'ray') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_every_size_is_labelled_and_exact():
    data = space_sizes(SearchSpace.from_seed("r35-sp18")).to_dict()
    assert set(data) == set(LABELS)
    assert all(type(v) is int for v in data.values())
    assert data["paper_orderings"] == 120 and "(N-5)!*5!" in LABELS["paper_orderings"]
    assert "decision lists" in LABELS["decision_lists"]
