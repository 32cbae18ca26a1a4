"""Canonical encoding of a spec into a search space's decision list.

Levels are many-to-one in (base level, offset), so a spec can have several decision lists.
The canonical rule: walk the intermediate positions in order and try offsets by preference —
smallest |offset| first, negative before positive on ties (0, -1, 1, -2, 2, ...) — taking the
first assignment that leaves the remaining base levels usable by the later positions (a
depth-first search with backtracking, memoized on (position, levels left)). So a spec whose
levels can all keep offset 0 is encoded with offset 0 everywhere. When the space fixes the
order of base levels (a single level, or a fixed `ordering`), each offset is simply level - base.
Every other value (output order, block type, parents) has exactly one decision.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

from search_space.errors import SpecError
from search_space.reachability import dead_features, unused_outputs
from search_space.space_options import FORBID_DEAD
from search_space.spec import ArchSpec

if TYPE_CHECKING:
    from search_space.space import SearchSpace


def offset_preference(offsets: tuple[int, ...]) -> list[int]:
    """Offsets in canonical preference order: smallest |offset| first, negative first on ties."""
    return sorted(offsets, key=lambda off: (abs(off), off))


def canonical_bases(levels: tuple[int, ...], multiset: tuple[int, ...], offsets: tuple[int, ...]) -> tuple[int, ...]:
    """Base level per intermediate position, by the canonical rule.

    Args:
        levels: the spec's intermediate levels, in block order.
        multiset: the space's intermediate base levels.
        offsets: the space's level offsets.
    Returns:
        One base level per position, a permutation of `multiset`.
    Raises:
        SpecError: no assignment of the multiset with these offsets gives `levels`.
    """
    preference = offset_preference(offsets)

    @cache
    def solve(i: int, left: tuple[int, ...]) -> tuple[int, ...] | None:
        if i == len(levels):
            return ()
        for off in preference:
            base = levels[i] - off
            if base in left:
                rest = list(left)
                rest.remove(base)
                found = solve(i + 1, tuple(rest))
                if found is not None:
                    return (base,) + found
        return None

    bases = solve(0, tuple(sorted(multiset))) if len(levels) == len(multiset) else None
    if bases is None:
        raise SpecError(
            f"intermediate levels {list(levels)} cannot be made from base levels {sorted(multiset)} "
            f"with offsets {sorted(offsets)}"
        )
    return bases


def _fixed_bases(levels: tuple[int, ...], fixed: tuple[int, ...], offsets: tuple[int, ...]) -> tuple[int, ...]:
    for k, (level, base) in enumerate(zip(levels, fixed)):
        if level - base not in offsets:
            raise SpecError(
                f"intermediate block {k} has level {level}, but the space fixes its base level at {base} "
                f"and offsets {sorted(offsets)} cannot reach it"
            )
    return fixed


def _check_shape(space: SearchSpace, spec: ArchSpec) -> None:
    opts = space.options
    if spec.stem != opts.stem:
        raise SpecError(f"stem {[list(s) for s in spec.stem]} differs from the space's {[list(s) for s in opts.stem]}")
    if (spec.min_level, spec.max_level) != (opts.min_level, opts.max_level):
        raise SpecError(
            f"levels [{spec.min_level}, {spec.max_level}] differ from the space's [{opts.min_level}, {opts.max_level}]"
        )
    unused = unused_outputs(spec)
    if unused:
        level, k = min(unused.items())
        raise SpecError(
            f"block {k} (feature {k + spec.num_stem}) is an output at level {level}, outside the space's "
            f"outputs L{opts.min_level}..L{opts.max_level} (as Model Garden's extra L2 entry); no search space "
            "holds it: drop that entry to encode the spec"
        )
    n_int, n_out = space.num_intermediate, space.num_output
    if len(spec.blocks) != n_int + n_out:
        raise SpecError(f"spec has {len(spec.blocks)} blocks; the space has {n_int} intermediate + {n_out} output")
    if spec.damage:
        raise SpecError(f"spec '{spec.name}' has damaged connections ({spec.damage}); no search space holds it")
    flags = [b.is_output for b in spec.blocks]
    if flags != [False] * n_int + [True] * n_out:
        raise SpecError(f"the space puts {n_int} intermediate blocks before {n_out} output blocks; this spec does not")


def _check_fixed_values(space: SearchSpace, spec: ArchSpec) -> None:
    """Values the space does not decide (a fixed output order, a single block type) must match."""
    outputs = [b.level for b in spec.blocks[space.num_intermediate :]]
    if space.fixed_outputs is not None and tuple(outputs) != space.fixed_outputs:
        raise SpecError(
            f"output levels {outputs} differ from the order {list(space.fixed_outputs)} that the space "
            f"fixes (ordering '{space.options.ordering}')"
        )
    fns = space.options.block_fns
    for k, block in enumerate(spec.blocks):
        if block.block_fn not in fns:
            raise SpecError(
                f"block {k} (feature {space.num_stem + k}) has block_fn {block.block_fn!r}; this space has only {list(fns)}"
            )


def _check_dead_blocks(space: SearchSpace, spec: ArchSpec) -> None:
    """A space with `dead_blocks="forbid"` holds no spec with a block that feeds no output."""
    dead = dead_features(spec)
    if dead and space.options.dead_blocks == FORBID_DEAD:
        raise SpecError(
            f"spec '{spec.name}' has features that feed no output ({', '.join(map(str, dead))}); this space "
            "forbids them (dead_blocks=forbid)"
        )


def _bases(space: SearchSpace, spec: ArchSpec) -> tuple[int, ...]:
    levels = tuple(b.level for b in spec.blocks[: space.num_intermediate])
    opts = space.options
    if space.fixed_bases is not None:
        return _fixed_bases(levels, space.fixed_bases, opts.level_offsets)
    return canonical_bases(levels, opts.intermediate_levels, opts.level_offsets)


def _step_values(space: SearchSpace, spec: ArchSpec) -> dict:
    """The value each step must take for this spec: keyed (kind, position) for level picks and
    (kind, feature) for block steps, like `Walk.values`."""
    bases = _bases(space, spec)
    values: dict = {("base_level", k): base for k, base in enumerate(bases)}
    for k, block in enumerate(spec.blocks):
        f = space.num_stem + k
        if k < space.num_intermediate:
            values["level_offset", f] = block.level - bases[k]
        else:
            values["output_level", k - space.num_intermediate] = block.level
        values["block_fn", f] = block.block_fn
        values["parent0", f], values["parent1", f] = block.inputs
    return values


def encode_spec(space: SearchSpace, spec: ArchSpec) -> tuple[int, ...]:
    """Canonical decision list of `spec`.

    Raises:
        SpecError: naming the first rule of the space the spec breaks.
    """
    _check_shape(space, spec)
    _check_fixed_values(space, spec)
    _check_dead_blocks(space, spec)
    values = _step_values(space, spec)
    decisions: list[int] = []
    for step in space.steps:
        key = step.position if step.kind in ("base_level", "output_level") else step.feature
        value = values[step.kind, key]
        if value not in step.options:
            raise SpecError(_not_an_option(space, step, value))
        decisions.append(step.options.index(value))
    _check_decoded(space, spec, decisions)
    return tuple(decisions)


def _not_an_option(space: SearchSpace, step, value) -> str:
    """Why `value` cannot be taken at `step`, naming the block and the rule."""
    if step.kind in ("parent0", "parent1"):
        rule = (
            "all earlier features"
            if step.feature >= space.num_stem + space.num_intermediate
            else (f"window of the last {space.options.window} features")
        )
        return (
            f"block at feature {step.feature} takes parent {value}, outside its candidates "
            f"{step.options[0]}..{step.options[-1]} ({rule})"
        )
    where = f"block at feature {step.feature}" if step.feature is not None else f"position {step.position}"
    return f"{where}: {step.kind} {value!r} is not among the space's options {list(step.options)}"


def _check_decoded(space: SearchSpace, spec: ArchSpec, decisions: list[int]) -> None:
    """The decisions must be valid and give the spec's blocks (this also covers left-out steps)."""
    decoded = space.block_fields(decisions)
    for k, (fields, block) in enumerate(zip(decoded, spec.blocks)):
        if fields != (block.level, block.block_fn, block.inputs, block.is_output):
            raise SpecError(
                f"block {k} (feature {space.num_stem + k}) is {block}, which the space cannot express "
                f"(nearest in space: level {fields[0]}, {fields[1]}, inputs {fields[2]})"
            )
