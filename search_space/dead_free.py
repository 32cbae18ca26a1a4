"""The look-ahead of `dead_blocks=forbid`: masks that admit exactly the specs without dead blocks.

A block is dead when no path leads from it to an output (`reachability.py`). In a space's specs
every output block is an endpoint, so a spec has no dead block exactly when every *obligation*
— each intermediate block and the last stem block (earlier stem blocks feed the next one) — has
a consumer: a later block that takes it as a parent, or the output at its level and block type,
which the output-merge rule adds it into when nothing else took it.

An option of a block step is valid when some completion of the decisions gives every
obligation a consumer. That question is answered exactly, without search:

- the future intermediate blocks are obligations too; their level and type are still free
  (base level + any valid offset, any block type), and so is the type of every output not yet
  decided, so each output can absorb one (level, type) class by merging;
- for each choice of the outputs' types, obligations in a merged class need nothing more; the
  others need a parent slot: every later block has two, an intermediate's over its window, an
  output's over all earlier features (the second parent lies above the first). Slots cover
  intervals of feature indices, so the largest assignment is found greedily (Glover's rule for
  convex bipartite graphs: each obligation in feature order takes the open slot whose interval
  ends first), and the option is valid when every obligation gets one.

Level picks never need a mask: whatever the levels, chaining each intermediate to the block
before it (plus one more parent) and giving the last one to an output leaves no dead block.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import product
from typing import TYPE_CHECKING

from search_space.space import BLOCK_FN, LEVEL_OFFSET, LEVEL_STEPS, PARENT0, PARENT1
from search_space.validation import HIGHEST_LEVEL, LOWEST_LEVEL

if TYPE_CHECKING:
    from search_space.space import Step, Walk


@dataclass(frozen=True)
class Slots:
    """Parent slots of one block still to be decided: `count` features in [low, high]."""

    count: int
    low: int
    high: int


@dataclass(frozen=True)
class Future:
    """What later decisions can still do: parent slots and the outputs' mergeable classes."""

    slots: tuple[Slots, ...]
    merge_levels: tuple[tuple[int, tuple[str, ...]], ...]  # (level, block types it may take)


def covered(obligations: list[tuple[int, frozenset]], future: Future) -> bool:
    """True when some choice of output types and parents gives every obligation a consumer.

    Args:
        obligations: (feature, classes it may still take) of each unconsumed obligation.
        future: the remaining parent slots and merge choices.
    """
    if _matched([f for f, _ in obligations], future.slots):
        return True
    levels = [level for level, _ in future.merge_levels]
    for fns in product(*(choices for _, choices in future.merge_levels)):
        merged = set(zip(levels, fns))
        if _matched([f for f, classes in obligations if not classes & merged], future.slots):
            return True
    return False


def _matched(features: list[int], slots: tuple[Slots, ...]) -> bool:
    """Glover's greedy: each feature in order takes the open slot that ends first."""
    left = [s.count for s in slots]
    for feature in sorted(features):
        best = None
        for i, s in enumerate(slots):
            if left[i] and s.low <= feature <= s.high and (best is None or s.high < slots[best].high):
                best = i
        if best is None:
            return False
        left[best] -= 1
    return True


class Lookahead:
    """The obligations and the future of a walk, with one step's value supposed taken."""

    def __init__(self, walk: Walk, step: Step, value):
        space = walk.space
        self.space, self.walk = space, walk
        self.values = dict(walk.values)
        self.values[step.kind, step.feature] = value
        self.current = step.feature
        self.first_output = space.num_stem + space.num_intermediate

    # ---- the decided part -------------------------------------------------------------------
    def _get(self, kind: str, feature: int):
        """A decided value, the fixed value of a left-out step, or None when still open."""
        if (kind, feature) in self.values:
            return self.values[kind, feature]
        if kind == LEVEL_OFFSET and len(self.space.options.level_offsets) == 1:
            return self.space.options.level_offsets[0]
        if kind == BLOCK_FN and len(self.space.options.block_fns) == 1:
            return self.space.options.block_fns[0]
        return None

    def _level(self, feature: int) -> int:
        m = self.space.num_stem
        if feature < m:
            return self.space.options.stem[feature][0]
        if feature < self.first_output:
            offset = self._get(LEVEL_OFFSET, feature)
            return self.walk.bases[feature - m] + (offset or 0)
        return self.walk.outputs[feature - self.first_output]

    def _class(self, feature: int) -> tuple[int, str]:
        if feature < self.space.num_stem:
            return tuple(self.space.options.stem[feature])
        return self._level(feature), self._get(BLOCK_FN, feature)

    def _built(self, feature: int) -> bool:
        return self._get(PARENT1, feature) is not None

    def _out_degrees(self) -> list[int]:
        """Consumers of every feature after the built blocks and the current one's parents."""
        degree = [0] * (self.first_output + self.space.num_output)
        for f in range(self.space.num_stem, self.current + 1):
            for kind in (PARENT0, PARENT1):
                parent = self._get(kind, f)
                if parent is not None:
                    degree[parent] += 1
            if f >= self.first_output and self._built(f):
                cls = self._class(f)
                for j in range(f):
                    if degree[j] == 0 and self._class(j) == cls:
                        degree[j] += 1
        return degree

    # ---- the open part ----------------------------------------------------------------------
    def _open_classes(self, feature: int) -> frozenset:
        """(level, type) classes an intermediate may still take."""
        fns = self.space.options.block_fns
        fn = self._get(BLOCK_FN, feature)
        if self._get(LEVEL_OFFSET, feature) is not None:
            levels = [self._level(feature)]
        else:
            base = self.walk.bases[feature - self.space.num_stem]
            levels = [base + off for off in self.space.options.level_offsets
                      if LOWEST_LEVEL <= base + off <= HIGHEST_LEVEL]
        return frozenset((level, f) for level in levels for f in ((fn,) if fn else fns))

    def _slots(self, feature: int) -> Slots | None:
        """The parent slots block `feature` has left (None once both parents are decided)."""
        if self._built(feature):
            return None
        low = 0 if feature >= self.first_output else max(0, feature - self.space.options.window)
        first = self._get(PARENT0, feature)
        return Slots(2, low, feature - 1) if first is None else Slots(1, first + 1, feature - 1)

    def obligations(self) -> list[tuple[int, frozenset]]:
        """Unconsumed obligations, with the classes each may still take."""
        degree = self._out_degrees()
        result = []
        for f in range(self.space.num_stem - 1, self.first_output):
            if f < self.current or (f == self.current and self._built(f)):
                if degree[f] == 0:
                    result.append((f, frozenset([self._class(f)])))
            else:
                result.append((f, self._open_classes(f)))
        return result

    def future(self) -> Future:
        """Parent slots of the current and later blocks, and the outputs that may still merge."""
        total = self.first_output + self.space.num_output
        slots = tuple(s for f in range(self.current, total) if (s := self._slots(f)) is not None)
        merges = []
        for f in range(max(self.current, self.first_output), total):
            if not self._built(f):
                fn = self._get(BLOCK_FN, f)
                merges.append((self._level(f), (fn,) if fn else self.space.options.block_fns))
        return Future(slots, tuple(merges))

    def viable(self) -> bool:
        """True when the supposed value leaves a completion without dead blocks."""
        return covered(self.obligations(), self.future())


def dead_free_mask(walk: Walk, mask: tuple[bool, ...]) -> tuple[bool, ...]:
    """`mask` with the options removed that leave no completion without dead blocks."""
    step = walk.step
    if step.kind in LEVEL_STEPS:
        return mask
    return tuple(ok and Lookahead(walk, step, value).viable() for ok, value in zip(mask, step.options))
