"""`dead_blocks=forbid`: the masks admit exactly the decision lists whose spec has no block that
feeds no output (brute force on small spaces), never leave a step without a choice, and every
sample, mutation, encoding and controller proposal of such a space stays dead-free."""

from dataclasses import replace
from random import Random

import pytest

from controller import build_controller
from search_space.errors import SpecError
from search_space.reachability import dead_features
from search_space.sizes import FORBID_LABELS, size_labels, space_sizes
from search_space.space import SearchSpace
from search_space.space_options import SpaceOptions

B, R = "bottleneck", "residual"
TWO_L2 = ((2, B), (2, B))
# Small spaces (a few thousand decision lists) where dead blocks are common: merges by type,
# offsets that move blocks onto output levels, a narrow window, a long stem.
SMALL = {
    "types-and-merges": SpaceOptions(name="d1", stem=TWO_L2, intermediate_levels=(3, 4, 4), output_levels=(3,),
                                     level_offsets=(0,), block_fns=(B, R), window=2),
    "offsets": SpaceOptions(name="d2", stem=TWO_L2, intermediate_levels=(2, 3, 3), output_levels=(3,),
                            level_offsets=(-1, 0, 1), block_fns=(B,), window=2),
    "long-stem": SpaceOptions(name="d3", stem=((2, B), (2, B), (3, B)), intermediate_levels=(3,),
                              output_levels=(3, 4), level_offsets=(0,), block_fns=(B, R), window=2),
    "one-type-many-blocks": SpaceOptions(name="d4", stem=TWO_L2, intermediate_levels=(2, 3, 3, 4, 4),
                                         output_levels=(4,), level_offsets=(0,), block_fns=(B,), window=2),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(SMALL))
def test_masks_admit_exactly_the_dead_free_decision_lists(case, all_decision_lists):
    allow = SearchSpace(SMALL[case])
    forbid = SearchSpace(replace(SMALL[case], dead_blocks="forbid"))
    every = all_decision_lists(allow)
    dead_free = {d for d in every if not dead_features(allow.decode(d))}
    assert 0 < len(dead_free) < len(every)  # the case holds both kinds
    assert set(all_decision_lists(forbid)) == dead_free  # `mask` asserts that no step is left empty


SEEDED = ["resnet50", "r0-sp53", "r14-sp39", "r23-sp30", "r35-sp18"]


@pytest.mark.parametrize("seed", SEEDED)
def test_samples_and_mutations_are_dead_free(seed):
    space = SearchSpace.from_seed(seed, dead_blocks="forbid")
    rng = Random(0)
    for k in range(12):
        decisions = space.sample(5, k)
        assert not dead_features(space.decode(decisions))
        assert not dead_features(space.decode(space.mutate(decisions, rng)))


@pytest.mark.parametrize("seed", ["resnet50", "r23-sp30"])
def test_encode_accepts_exactly_the_dead_free_specs(seed):
    allow, forbid = SearchSpace.from_seed(seed), SearchSpace.from_seed(seed, dead_blocks="forbid")
    kinds = set()
    for k in range(60):
        spec = allow.sample_spec(9, k)
        dead = dead_features(spec)
        kinds.add(bool(dead))
        if dead:
            with pytest.raises(SpecError, match="feed no output"):
                forbid.encode(spec)
        else:
            assert forbid.decode(forbid.encode(spec), name=spec.name) == spec
    assert kinds == {True, False}


@pytest.mark.parametrize("name", ["random", "evolution", "reinforce", "ppo"])
def test_controllers_propose_dead_free_specs(name):
    space = SearchSpace.from_seed("resnet50", dead_blocks="forbid")
    controller = build_controller(name, space, seed=1)
    for _ in range(4):
        proposal = controller.propose()
        assert not dead_features(proposal.spec)


def test_sizes_of_a_forbid_space_are_labelled_estimates():
    forbid = SearchSpace.from_seed("resnet50", dead_blocks="forbid")
    sizes, exact = space_sizes(forbid), space_sizes(SearchSpace.from_seed("resnet50"))
    share, stderr, draws = sizes.dead_free_share
    assert draws == 1000 and 0.3 < share < 0.7 and 0 < stderr < 0.02
    assert sizes.decision_lists == round(exact.decision_lists * share)
    assert size_labels(forbid)["decision_lists"] == FORBID_LABELS["decision_lists"]
    assert "SAMPLED ESTIMATE" in size_labels(forbid)["distinct_specs"]
    assert exact.dead_free_share is None and "exact" in size_labels(SearchSpace.from_seed("resnet50"))["decision_lists"]


def test_unknown_mode_is_refused():
    with pytest.raises(SpecError, match="dead_blocks 'never' is unknown; use one of allow, forbid"):
        SearchSpace.from_seed("resnet50", dead_blocks="never")
