"""Exact search-space sizes, as the paper counts them and as this implementation's decisions.

The paper's counts (docs/facts.md §1.2) treat the N scale-permuted blocks as distinct and multiply:
  orderings      (N-5)!·5!        intermediate and output blocks permuted separately
                                  (10!·5! = 435,456,000 for N = 15); 1 for a fixed ordering
  connections    ∏_{i=m}^{N+m-1} C(i,2)  two parents from any earlier feature, m stem blocks
  windowed       the same with intermediates limited to the last `window` features
  level offsets  |offsets|^(N-5)  (4^10 = 1,048,576)
  block types    |block_fns|^N    (2^15 = 32,768)
Left-out steps (adjustments off) count as a factor of 1.

`decision_lists` is different: the exact number of distinct complete decision lists this
implementation accepts. Base levels repeat in the seed multiset, so the number of distinct
base-level sequences is a multinomial, not (N-5)!, and offsets are masked so that a level stays
in [1, 7]. It is counted by walking the masks: a dynamic program over the level picks (state:
levels left, outputs used), times the block steps' counts read from their masks (those masks
depend on one earlier value only, and their product is the same for every level-pick list,
since it depends only on the multiset of base levels). Several decision lists can give the same
spec (levels are many-to-one in base + offset); `distinct_specs` counts the specs themselves:
the distinct intermediate level sequences (a dynamic program whose state is the set of base
multisets still left that are consistent with the levels so far) times the output orders, the
block types and the windowed connections, which a spec determines one to one.

With `dead_blocks="forbid"` the two implementation counts are sampled estimates, labelled so:
the exact counts of the same space with dead blocks allowed, times the share of dead-free specs
among `ESTIMATE_DRAWS` decision lists drawn uniformly from it (a uniform shuffle of the base and
output levels, then uniform block choices: every level list has the same number of block-step
completions, so this is uniform over decision lists). The share, its standard error and the
number of draws are reported beside them; the same share is applied to the distinct specs.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import asdict, dataclass, replace
from functools import cache
from math import comb, factorial, prod, sqrt

from search_space.reachability import dead_features
from search_space.space import (
    BASE_LEVEL,
    LEVEL_STEPS,
    OUTPUT_LEVEL,
    PARENT0,
    PARENT1,
    SearchSpace,
    Walk,
    level_is_valid,
)
from search_space.space_options import ALLOW_DEAD, FORBID_DEAD

# What each SpaceSizes field counts, for printing beside the number.
LABELS = {
    "paper_orderings": "orderings, paper (N-5)!*5! (blocks distinct)",
    "paper_connections": "connections, paper prod C(i,2) (any earlier feature)",
    "window_connections": "connections with the window rule for intermediates",
    "paper_level_offsets": "level adjustments, paper |offsets|^(N-5)",
    "paper_block_types": "block types, paper |block_fns|^N",
    "paper_total": "paper total (orderings x connections x adjustments x types)",
    "paper_total_window": "paper total with the window rule",
    "decision_lists": "distinct decision lists of this space (exact, from the masks)",
    "distinct_specs": "distinct architectures (specs) of this space (exact)",
}
ESTIMATE_DRAWS = 1000  # uniform decision lists behind the dead_blocks=forbid estimates
FORBID_LABELS = {
    "decision_lists": "decision lists without dead blocks (SAMPLED ESTIMATE)",
    "distinct_specs": "specs without dead blocks (SAMPLED ESTIMATE)",
}


def size_labels(space: SearchSpace) -> dict[str, str]:
    """LABELS, with the estimated counts of a dead_blocks=forbid space labelled as estimates."""
    return {**LABELS, **(FORBID_LABELS if space.options.dead_blocks == FORBID_DEAD else {})}


@dataclass(frozen=True)
class SpaceSizes:
    """Exact integer sizes of one search space (see the module docstring for each)."""

    paper_orderings: int
    paper_connections: int
    window_connections: int
    paper_level_offsets: int
    paper_block_types: int
    decision_lists: int
    distinct_specs: int
    # dead_blocks=forbid only: (share of dead-free draws, its standard error, number of draws)
    dead_free_share: tuple[float, float, int] | None = None

    @property
    def paper_total(self) -> int:
        return self.paper_orderings * self.paper_connections * self.paper_level_offsets * self.paper_block_types

    @property
    def paper_total_window(self) -> int:
        return self.paper_orderings * self.window_connections * self.paper_level_offsets * self.paper_block_types

    def to_dict(self) -> dict[str, int]:
        """All counts, including the totals, keyed like LABELS (ints; dead_free_share is not a count)."""
        counts = {k: v for k, v in asdict(self).items() if k != "dead_free_share"}
        return {**counts, "paper_total": self.paper_total, "paper_total_window": self.paper_total_window}


def paper_orderings(space: SearchSpace) -> int:
    """(N-5)!·5!: intermediate and output blocks permuted separately; 1 where the order is fixed."""
    inter = factorial(space.num_intermediate) if space.options.ordering == "searched" else 1
    outputs = factorial(space.num_output) if space.options.ordering == "searched" else 1
    return inter * outputs


def connections(space: SearchSpace, windowed: bool) -> int:
    """Two distinct parents per block: ∏ C(candidates, 2) over the blocks, where candidates are
    all earlier features (the paper's formula) or, with `windowed`, the window for intermediates."""
    first_output = space.num_stem + space.num_intermediate
    features = range(space.num_stem, first_output + space.num_output)
    return prod(comb(len(space.candidate_parents(f, is_output=f >= first_output or not windowed)), 2) for f in features)


def _level_phase_count(space: SearchSpace) -> tuple[int, Walk]:
    """Number of valid level-pick lists, by dynamic programming over the masks (state: steps
    taken, base levels left, output levels used), and one walk that has made such a list."""
    level_steps = sum(1 for s in space.steps if s.kind in LEVEL_STEPS)
    memo: dict = {}
    first: list[Walk] = []

    def paths(walk: Walk) -> int:
        if len(walk.decisions) == level_steps:
            first[:1] = first[:1] or [walk]
            return 1
        key = (len(walk.decisions), tuple(sorted(walk.left.elements())), tuple(sorted(walk.outputs)))
        if key not in memo:
            memo[key] = sum(paths(walk.child(c)) for c in walk.valid_choices())
        return memo[key]

    return paths(Walk(space)), first[0]


def _block_phase_count(walk: Walk) -> int:
    """Number of ways to finish the block steps after the level picks, read from the masks:
    each parent pair counts Σ over valid first parents of the valid second parents."""
    total = 1
    while len(walk.decisions) < len(walk.space.steps):
        step, choices = walk.step, walk.valid_choices()
        if step.kind == PARENT1:
            walk.take(choices[0])
            continue
        if step.kind == PARENT0:
            total *= sum(len(walk.child(c).valid_choices()) for c in choices)
        else:
            total *= len(choices)
        walk.take(choices[0])
    return total


def decision_lists(space: SearchSpace) -> int:
    """Exact number of distinct complete decision lists of `space` (see the module docstring)."""
    level_lists, walk = _level_phase_count(space)
    return level_lists * _block_phase_count(walk)


def _next_levels(states: frozenset, offsets: tuple[int, ...]) -> dict[int, frozenset]:
    """For each next level, the base multisets left after it, over all bases that could give it."""
    nexts: dict[int, set] = defaultdict(set)
    for left in states:
        for base in set(left):
            rest = list(left)
            rest.remove(base)
            for off in offsets:
                if level_is_valid(base + off):
                    nexts[base + off].add(tuple(rest))
    return {level: frozenset(rest) for level, rest in nexts.items()}


def distinct_level_sequences(space: SearchSpace) -> int:
    """Number of distinct intermediate level sequences the space can produce."""
    offsets = space.options.level_offsets
    if space.fixed_bases is not None:
        return prod(sum(level_is_valid(b + off) for off in offsets) for b in space.fixed_bases)

    @cache
    def count(states: frozenset) -> int:
        if not next(iter(states)):
            return 1
        return sum(count(rest) for rest in _next_levels(states, offsets).values())

    return count(frozenset([space.options.intermediate_levels]))


def distinct_specs(space: SearchSpace) -> int:
    """Exact number of distinct specs of `space` (see the module docstring)."""
    outputs = 1 if space.fixed_outputs is not None else factorial(space.num_output)
    types = len(space.options.block_fns) ** (space.num_intermediate + space.num_output)
    return distinct_level_sequences(space) * outputs * types * connections(space, windowed=True)


def uniform_decisions(space: SearchSpace, rng: random.Random) -> tuple[int, ...]:
    """A decision list drawn uniformly from all complete decision lists of an allow space."""
    bases = rng.sample(space.options.intermediate_levels, space.num_intermediate)
    outputs = rng.sample(space.options.output_levels, space.num_output)
    walk = Walk(space)
    while len(walk.decisions) < len(space.steps):
        step = walk.step
        if step.kind in (BASE_LEVEL, OUTPUT_LEVEL):
            value = (bases if step.kind == BASE_LEVEL else outputs)[step.position]
            walk.take(step.options.index(value))
        elif step.kind == PARENT0:  # a uniform pair: both parents at once
            first, second = sorted(rng.sample(range(len(step.options)), 2))
            walk.take(first)
            walk.take(second)
        else:
            walk.take(rng.choice(walk.valid_choices()))
    return tuple(walk.decisions)


def dead_free_share(space: SearchSpace, draws: int = ESTIMATE_DRAWS) -> tuple[float, float, int]:
    """(share, standard error, draws) of dead-free specs among uniform decision lists of the
    space with dead blocks allowed; seeded, so the same space always gives the same estimate."""
    allow = SearchSpace(replace(space.options, dead_blocks=ALLOW_DEAD))
    rng = random.Random(f"dead-free-share:{space.options.name}")
    hits = sum(not dead_features(allow.decode(uniform_decisions(allow, rng))) for _ in range(draws))
    share = hits / draws
    return share, sqrt(share * (1 - share) / draws), draws


def space_sizes(space: SearchSpace) -> SpaceSizes:
    """All sizes of a space: exact integers, or estimates for dead_blocks=forbid (see above)."""
    if space.options.dead_blocks == FORBID_DEAD:
        exact = space_sizes(SearchSpace(replace(space.options, dead_blocks=ALLOW_DEAD)))
        share = dead_free_share(space)
        return replace(
            exact,
            decision_lists=round(exact.decision_lists * share[0]),
            distinct_specs=round(exact.distinct_specs * share[0]),
            dead_free_share=share,
        )
    opts = space.options
    return SpaceSizes(
        paper_orderings=paper_orderings(space),
        paper_connections=connections(space, windowed=False),
        window_connections=connections(space, windowed=True),
        paper_level_offsets=len(opts.level_offsets) ** space.num_intermediate,
        paper_block_types=len(opts.block_fns) ** (space.num_intermediate + space.num_output),
        decision_lists=decision_lists(space),
        distinct_specs=distinct_specs(space),
    )
