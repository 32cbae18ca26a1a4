"""Canonical encoding of a spec into a search space's decision list.

Levels are many-to-one in (base level, offset). The canonical rule: walk the intermediate
positions in order and try offsets by preference — smallest |offset| first, negative before
positive on ties (0, -1, 1, 2, ...) — taking the first assignment that leaves the remaining
base levels usable by the later positions (a depth-first search with backtracking).
"""

from __future__ import annotations

from collections import Counter
from functools import lru_cache
from typing import TYPE_CHECKING

from search_space.errors import SpecError
from search_space.spec import ArchSpec

if TYPE_CHECKING:
    from search_space.space import SearchSpace


def canonical_bases(levels: tuple[int, ...], multiset: tuple[int, ...], offsets: tuple[int, ...]) -> tuple[int, ...]:
    """Base level per intermediate position, by the canonical rule; SpecError if impossible."""
    preference = sorted(offsets, key=lambda off: (abs(off), off))

    @lru_cache(maxsize=None)
    def solve(i: int, left: tuple[int, ...]) -> tuple[int, ...] | None:
        if i == len(levels):
            return ()
        counts = Counter(left)
        for off in preference:
            base = levels[i] - off
            if counts[base] > 0:
                counts_after = counts - Counter([base])
                rest = solve(i + 1, tuple(sorted(counts_after.elements())))
                if rest is not None:
                    return (base,) + rest
        return None

    bases = solve(0, tuple(sorted(multiset)))
    if bases is None:
        raise SpecError(
            f"intermediate levels {list(levels)} cannot be made from base levels {sorted(multiset)} "
            f"with offsets {sorted(offsets)}"
        )
    return bases


def _check_shape(space: "SearchSpace", spec: ArchSpec) -> None:
    opts = space.options
    if spec.stem != opts.stem:
        raise SpecError(f"stem {[list(s) for s in spec.stem]} differs from the space's {[list(s) for s in opts.stem]}")
    if (spec.min_level, spec.max_level) != (opts.min_level, opts.max_level):
        raise SpecError(f"levels [{spec.min_level}, {spec.max_level}] differ from the space's [{opts.min_level}, {opts.max_level}]")
    n_int, n_out = space.num_intermediate, space.num_output
    if len(spec.blocks) != n_int + n_out:
        raise SpecError(f"spec has {len(spec.blocks)} blocks; the space has {n_int} intermediate + {n_out} output")
    flags = [b.is_output for b in spec.blocks]
    if flags != [False] * n_int + [True] * n_out:
        raise SpecError(f"the space puts {n_int} intermediate blocks before {n_out} output blocks; this spec does not")


def _block_values(space: "SearchSpace", spec: ArchSpec) -> dict:
    """The value each step must take for this spec, keyed like SearchSpace._values."""
    n_int = space.num_intermediate
    levels = tuple(b.level for b in spec.blocks[:n_int])
    opts = space.options
    bases = canonical_bases(levels, opts.intermediate_levels, opts.level_offsets)
    values: dict = {"base_level": list(bases), "output_level": [b.level for b in spec.blocks[n_int:]]}
    for k, block in enumerate(spec.blocks):
        f = space.num_stem + k
        if k < n_int:
            values["level_offset" + str(f)] = block.level - bases[k]
        values["block_fn" + str(f)] = block.block_fn
        values["parent0" + str(f)], values["parent1" + str(f)] = block.inputs
    return values


def encode_spec(space: "SearchSpace", spec: ArchSpec) -> tuple[int, ...]:
    """Canonical decision list of `spec`; SpecError naming the first rule it breaks otherwise."""
    _check_shape(space, spec)
    values = _block_values(space, spec)
    decisions: list[int] = []
    for step in space.steps:
        if step.kind in ("base_level", "output_level"):
            value = values[step.kind][step.position]
        else:
            value = values[step.kind + str(step.feature)]
        if value not in step.options:
            where = f"block at feature {step.feature}" if step.feature is not None else f"position {step.position}"
            raise SpecError(f"{where}: {step.kind} {value!r} is not among the space's options {list(step.options)}")
        decisions.append(step.options.index(value))
    space.check_decisions(decisions)
    _check_fixed(space, spec, decisions)
    return tuple(decisions)


def _check_fixed(space: "SearchSpace", spec: ArchSpec, decisions: list[int]) -> None:
    """Values of left-out steps (single-option) must match too: compare the decoded spec."""
    decoded = space.decode(decisions, name=spec.name)
    if decoded != spec:
        for k, (a, b) in enumerate(zip(decoded.blocks, spec.blocks)):
            if a != b:
                raise SpecError(
                    f"block {k} (feature {space.num_stem + k}) is {b}, which the space cannot express "
                    f"(nearest in space: {a})"
                )
        raise SpecError("spec differs from every spec in the space")
