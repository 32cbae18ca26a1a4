"""Which features of a spec feed an output: the part of a spec that TF Model Garden builds.

Model Garden's SpineNet is a Keras functional model made from its endpoints back, so a block
with no path to an endpoint at a level in [min_level, max_level] never becomes a layer
(`official/vision/modeling/backbones/spinenet.py`). The output-merge rule (`merge_rule.py`) is
evaluated first on the whole spec, dead blocks included: the build loop counts every block as a
consumer of its parents whether or not the block is reached later. Then a feature is live when

- it is the output block of a level in [min_level, max_level], or
- a live block takes it as a (live) parent, or the merge rule adds it into a live output, or
- it is a stem block and the next stem block, computed from it, is live.

Every other feature is dead: not built, not run, not counted (`proxy_trainer/modeling/spinenet.py`
builds only the live ones). The same module says so in words for `nas validate` and `nas info`.
"""

from __future__ import annotations

from search_space.merge_rule import implicit_merges
from search_space.spec import ArchSpec


def _level_range(spec: ArchSpec, min_level: int | None, max_level: int | None) -> tuple[int, int]:
    return (spec.min_level if min_level is None else min_level, spec.max_level if max_level is None else max_level)


def feature_sources(spec: ArchSpec, feature: int, merges: dict[int, tuple[int, ...]]) -> tuple[int, ...]:
    """The features `feature` depends on directly: its live parents and merged features, or the
    previous stem block for a stem block (none for the first)."""
    if feature < spec.num_stem:
        return (feature - 1,) if feature > 0 else ()
    return tuple(spec.live_inputs(feature - spec.num_stem)) + merges.get(feature, ())


def live_features(spec: ArchSpec, min_level: int | None = None, max_level: int | None = None) -> frozenset[int]:
    """Features with a path to an endpoint at a level in [min_level, max_level] (default: the spec's)."""
    low, high = _level_range(spec, min_level, max_level)
    merges = implicit_merges(spec)
    pending = [f for level, f in spec.output_features().items() if low <= level <= high]
    live: set[int] = set()
    while pending:
        feature = pending.pop()
        if feature not in live:
            live.add(feature)
            pending.extend(feature_sources(spec, feature, merges))
    return frozenset(live)


def dead_features(spec: ArchSpec, min_level: int | None = None, max_level: int | None = None) -> tuple[int, ...]:
    """Features (stem included) that feed no endpoint, in feature order."""
    live = live_features(spec, min_level, max_level)
    return tuple(f for f in range(spec.num_features) if f not in live)


def unused_outputs(spec: ArchSpec, min_level: int | None = None, max_level: int | None = None) -> dict[int, int]:
    """Output blocks at levels outside [min_level, max_level]: level -> block index (spec entry).

    Model Garden's current SpineNet-49 list has one: an L2 output that only min_level 2 uses."""
    low, high = _level_range(spec, min_level, max_level)
    return {
        level: feature - spec.num_stem
        for level, feature in spec.output_features().items()
        if not low <= level <= high
    }


def _numbers(values) -> str:
    return ", ".join(str(v) for v in values)


def dead_block_note(spec: ArchSpec, min_level: int | None = None, max_level: int | None = None) -> str:
    """One line naming the blocks that feed no output, or "" when every block does."""
    dead = dead_features(spec, min_level, max_level)
    if not dead:
        return ""
    m = spec.num_stem
    blocks = [f - m for f in dead if f >= m]
    stem = [f for f in dead if f < m]
    parts = []
    if blocks:
        parts.append(f"{len(blocks)} of {len(spec.blocks)} blocks feed no output: blocks {_numbers(blocks)} "
                     f"(features {_numbers(f + m for f in blocks)})")
    if stem:
        parts.append(f"stem blocks feeding no output: {_numbers(stem)}")
    return "; ".join(parts) + "; they are not built or counted (TF Model Garden does not build them either)"


def unused_output_note(spec: ArchSpec, min_level: int | None = None, max_level: int | None = None) -> str:
    """One line about output blocks outside the used levels, or ""."""
    low, high = _level_range(spec, min_level, max_level)
    unused = unused_outputs(spec, min_level, max_level)
    if not unused:
        return ""
    items = _numbers(f"block {k} (feature {k + spec.num_stem}, L{level})" for level, k in sorted(unused.items()))
    levels = _numbers(sorted(unused))
    return (f"output {items} lies outside levels [{low}, {high}]: it is used only when min_level/max_level "
            f"include level {levels}, and has no effect here (as in TF Model Garden)")
