"""Table 9 connection ablations: exact live parents, damaged specs' place in the language."""

from __future__ import annotations

import json

import pytest

from search_space import ArchSpec, SearchSpace, SpecError, get_builtin, spec_from_json, spec_to_json, to_tf_text
from search_space.ablations import DAMAGES, damage_connections
from search_space.encoding import encode_spec
from search_space.merge_rule import implicit_merges

R0_SP53 = get_builtin("r0-sp53")


def parents(spec):
    return [spec.live_inputs(k) for k in range(len(spec.blocks))]


def test_no_short_range_keeps_the_earlier_parent_of_every_block():
    damaged = damage_connections(R0_SP53, "no-short-range")
    assert parents(damaged) == [
        (0,),
        (0,),
        (2,),
        (2,),
        (3,),
        (5,),
        (4,),
        (4,),
        (8,),
        (8,),
        (4,),
        (6,),
        (8,),
        (6,),
        (7,),
    ]


def test_no_long_range_keeps_the_later_parent_of_every_block():
    damaged = damage_connections(R0_SP53, "no-long-range")
    assert parents(damaged) == [
        (1,),
        (1,),
        (3,),
        (4,),
        (5,),
        (6,),
        (7,),
        (8,),
        (9,),
        (10,),
        (10,),
        (7,),
        (13,),
        (9,),
        (9,),
    ]


def test_sequential_chains_every_block_to_its_predecessor():
    damaged = damage_connections(R0_SP53, "sequential")
    assert parents(damaged) == [(k + 1,) for k in range(15)]


def test_intact_specs_keep_both_parents():
    assert parents(R0_SP53) == [b.inputs for b in R0_SP53.blocks]


@pytest.mark.parametrize("damage", DAMAGES)
def test_damage_keeps_the_blocks_and_round_trips_through_json(damage):
    damaged = damage_connections(R0_SP53, damage)
    assert damaged.name == f"r0-sp53~{damage}" and damaged.damage == damage
    assert damaged.blocks == R0_SP53.blocks and damaged != R0_SP53.renamed(damaged.name)
    text = spec_to_json(damaged)
    assert json.loads(text)["damage"] == damage and spec_from_json(text) == damaged
    assert "damage" not in json.loads(spec_to_json(R0_SP53))  # intact files are unchanged


def test_blocks_left_unused_are_merged_into_outputs_by_the_merge_rule():
    # without short-range links, L3 feature 7 and L4 features 9, 10, 11 have no consumer when the
    # L3 and L4 outputs are built, so they join those outputs; a sequential chain consumes all
    merges = implicit_merges(damage_connections(R0_SP53, "no-short-range"))
    assert merges == {12: (7,), 13: (9, 10, 11), 14: (), 15: (), 16: ()}
    assert implicit_merges(damage_connections(R0_SP53, "sequential")) == {f: () for f in range(12, 17)}


@pytest.mark.parametrize(
    "make",
    [
        lambda: damage_connections(R0_SP53, "no-connections"),
        lambda: ArchSpec("x", R0_SP53.blocks, damage="cut"),
        lambda: spec_from_json(json.dumps({**json.loads(spec_to_json(R0_SP53)), "damage": "cut"})),
    ],
)
def test_unknown_damage_names_the_known_ones(make):
    with pytest.raises(SpecError, match="no-short-range, no-long-range, sequential"):
        make()


def test_a_damaged_spec_cannot_be_damaged_again():
    with pytest.raises(SpecError, match="give an intact spec"):
        damage_connections(damage_connections(R0_SP53, "sequential"), "no-long-range")


def test_damaged_specs_stay_outside_spaces_and_tf_form():
    damaged = damage_connections(R0_SP53, "sequential")
    with pytest.raises(SpecError, match="damaged connections"):
        encode_spec(SearchSpace.from_seed("r0-sp53"), damaged)
    with pytest.raises(SpecError, match="two parents per block"):
        to_tf_text(damaged)
