"""The search space as one sequence of categorical decisions with masks (design §5).

Order of steps: (a) a base level for each intermediate position, drawn without replacement from
the seed's multiset; (b) the output levels, a permutation; (c) per intermediate block at feature
f: level offset, block type, first parent, second parent (> first) from the last `window`
features; (d) per output block: block type, first parent, second parent from all earlier
features. Steps with a single option are left out. A decision is an index into its step's
options; the options of a step never depend on earlier answers, only its mask does.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass
from typing import Sequence

from search_space.errors import SpecError
from search_space.space_options import SpaceOptions
from search_space.spec import ArchSpec, BlockSpec

BASE_LEVEL, OUTPUT_LEVEL = "base_level", "output_level"
LEVEL_OFFSET, BLOCK_FN = "level_offset", "block_fn"
PARENT0, PARENT1 = "parent0", "parent1"
STEP_KINDS = (BASE_LEVEL, OUTPUT_LEVEL, LEVEL_OFFSET, BLOCK_FN, PARENT0, PARENT1)


@dataclass(frozen=True)
class Step:
    """One decision: its kind, the block position it belongs to, and its fixed options."""

    index: int  # position in the decision list
    kind: str  # one of STEP_KINDS
    position: int  # intermediate/output position (0-based) this step decides for
    feature: int | None  # feature index of the block it decides for (None for level picks)
    options: tuple  # values: levels, offsets, block types or parent feature indices


class SearchSpace:
    """A search space: its steps, masks, decode/encode, sampling and mutation."""

    def __init__(self, options: SpaceOptions):
        self.options = options
        self.num_stem = len(options.stem)
        self.num_intermediate = len(options.intermediate_levels)
        self.num_output = len(options.output_levels)
        self.base_level_values = tuple(sorted(set(options.intermediate_levels)))
        self.steps: tuple[Step, ...] = tuple(self._build_steps())

    # ---- construction -------------------------------------------------------------------
    @classmethod
    def from_seed(cls, name: str = "resnet50", **overrides) -> "SearchSpace":
        """The space derived from a named seed allocation (see `seeds.py`), with overrides."""
        from search_space.seeds import seed_options

        return cls(seed_options(name, **overrides))

    def _candidate_parents(self, feature: int, is_output: bool) -> tuple[int, ...]:
        low = 0 if is_output else max(0, feature - self.options.window)
        return tuple(range(low, feature))

    def _build_steps(self):
        raw: list[tuple[str, int, int | None, tuple]] = []
        raw += [(BASE_LEVEL, i, None, self.base_level_values) for i in range(self.num_intermediate)]
        raw += [(OUTPUT_LEVEL, j, None, self.options.output_levels) for j in range(self.num_output)]
        for i in range(self.num_intermediate):
            f = self.num_stem + i
            parents = self._candidate_parents(f, is_output=False)
            raw += [(LEVEL_OFFSET, i, f, self.options.level_offsets), (BLOCK_FN, i, f, self.options.block_fns)]
            raw += [(PARENT0, i, f, parents), (PARENT1, i, f, parents)]
        for j in range(self.num_output):
            f = self.num_stem + self.num_intermediate + j
            parents = self._candidate_parents(f, is_output=True)
            raw += [(BLOCK_FN, j, f, self.options.block_fns), (PARENT0, j, f, parents), (PARENT1, j, f, parents)]
        kept = [r for r in raw if len(r[3]) > 1]
        return [Step(k, kind, pos, feat, opts) for k, (kind, pos, feat, opts) in enumerate(kept)]

    # ---- masks --------------------------------------------------------------------------
    def mask(self, prefix: Sequence[int]) -> tuple[bool, ...]:
        """Valid options of step len(prefix) given the earlier decisions; never all False."""
        step = self.steps[len(prefix)]
        values = self._values(prefix)
        if step.kind == BASE_LEVEL:
            left = Counter(self.options.intermediate_levels) - Counter(values[BASE_LEVEL])
            result = tuple(left[v] > 0 for v in step.options)
        elif step.kind == OUTPUT_LEVEL:
            result = tuple(v not in values[OUTPUT_LEVEL] for v in step.options)
        elif step.kind == LEVEL_OFFSET:
            base = self._base_levels(values)[step.position]
            result = tuple(1 <= base + off <= 7 for off in step.options)
        elif step.kind == PARENT0:
            result = tuple(k < len(step.options) - 1 for k in range(len(step.options)))
        elif step.kind == PARENT1:
            first = values[PARENT0 + str(step.feature)]
            result = tuple(v > first for v in step.options)
        else:
            result = (True,) * len(step.options)
        assert any(result), f"step {step.index} ({step.kind}) has no valid option"
        return result

    def _values(self, prefix: Sequence[int]) -> dict:
        """Decoded values of a decision prefix, grouped for mask and decode."""
        values: dict = {BASE_LEVEL: [], OUTPUT_LEVEL: []}
        for step, choice in zip(self.steps, prefix):
            value = step.options[choice]
            if step.kind in (BASE_LEVEL, OUTPUT_LEVEL):
                values[step.kind].append(value)
            else:
                values[step.kind + str(step.feature)] = value
        return values

    def _base_levels(self, values: dict) -> list[int]:
        """Base levels of all intermediate positions; a left-out step means a single level."""
        picked = values[BASE_LEVEL]
        if any(s.kind == BASE_LEVEL for s in self.steps):
            return picked
        return list(self.options.intermediate_levels)

    def _output_levels(self, values: dict) -> list[int]:
        if any(s.kind == OUTPUT_LEVEL for s in self.steps):
            return values[OUTPUT_LEVEL]
        return list(self.options.output_levels)

    # ---- decode / encode ----------------------------------------------------------------
    def check_decisions(self, decisions: Sequence[int]) -> None:
        """Raise SpecError unless `decisions` is a complete list of valid choices."""
        if len(decisions) != len(self.steps):
            raise SpecError(f"got {len(decisions)} decisions; this space takes exactly {len(self.steps)}")
        for k, choice in enumerate(decisions):
            mask = self.mask(decisions[:k])
            if not isinstance(choice, int) or isinstance(choice, bool) or not 0 <= choice < len(mask):
                raise SpecError(f"decision {k} is {choice!r}; it must be an option index in [0, {len(mask)})")
            if not mask[choice]:
                step = self.steps[k]
                raise SpecError(f"decision {k} ({step.kind}) picks masked option {step.options[choice]!r}")

    def decode(self, decisions: Sequence[int], name: str = "candidate") -> ArchSpec:
        """The (always valid) spec of a complete decision list."""
        decisions = list(decisions)
        self.check_decisions(decisions)
        values = self._values(decisions)
        default_fn = self.options.block_fns[0]
        blocks = []
        for i, base in enumerate(self._base_levels(values)):
            f = self.num_stem + i
            level = base + values.get(LEVEL_OFFSET + str(f), 0)
            blocks.append(self._block(values, f, level, default_fn, False))
        for j, level in enumerate(self._output_levels(values)):
            f = self.num_stem + self.num_intermediate + j
            blocks.append(self._block(values, f, level, default_fn, True))
        return ArchSpec(name, tuple(blocks), self.options.stem, self.options.min_level, self.options.max_level)

    def _block(self, values: dict, f: int, level: int, default_fn: str, is_output: bool) -> BlockSpec:
        fn = values.get(BLOCK_FN + str(f), default_fn)
        inputs = (values.get(PARENT0 + str(f), f - 2), values.get(PARENT1 + str(f), f - 1))
        return BlockSpec(level, fn, inputs, is_output)

    def encode(self, spec: ArchSpec) -> tuple[int, ...]:
        """The canonical decision list of a spec in this space (see `encoding.py`)."""
        from search_space.encoding import encode_spec

        return encode_spec(self, spec)

    def contains(self, spec: ArchSpec) -> tuple[bool, str]:
        """(True, "") when the spec is in this space, else (False, the reason)."""
        try:
            self.encode(spec)
        except SpecError as err:
            return False, str(err)
        return True, ""

    # ---- sampling -----------------------------------------------------------------------
    def sample(self, seed: int, k: int, name: str | None = None) -> tuple[int, ...]:
        """The k-th seeded sample: its randomness depends only on (seed, k)."""
        rng = random.Random(f"sample:{seed}:{k}")
        decisions: list[int] = []
        for _ in self.steps:
            decisions.append(rng.choice([i for i, ok in enumerate(self.mask(decisions)) if ok]))
        return tuple(decisions)

    def sample_spec(self, seed: int, k: int) -> ArchSpec:
        """Decoded k-th seeded sample, named by its seed and index."""
        return self.decode(self.sample(seed, k), name=f"{self.options.name}-s{seed}-{k}")

    def mutate(self, decisions: Sequence[int], rng: random.Random) -> tuple[int, ...]:
        """Change one decision to another valid option, re-sampling only later decisions it made
        invalid; the result always decodes to a spec different from the input's."""
        decisions = tuple(decisions)
        original = self.decode(decisions)
        while True:
            k = rng.randrange(len(self.steps))
            choices = [i for i, ok in enumerate(self.mask(decisions[:k])) if ok and i != decisions[k]]
            if not choices:
                continue
            mutated = list(decisions[:k]) + [rng.choice(choices)]
            for j in range(k + 1, len(self.steps)):
                mask = self.mask(mutated)
                keep = decisions[j] < len(mask) and mask[decisions[j]]
                mutated.append(decisions[j] if keep else rng.choice([i for i, ok in enumerate(mask) if ok]))
            if self.decode(mutated) != original:
                return tuple(mutated)
