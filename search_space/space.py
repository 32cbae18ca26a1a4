"""The search space as one sequence of categorical decisions with masks (docs/design.md §3.2).

Order of steps: (a) a base level for each intermediate position, drawn without replacement from
the seed's multiset; (b) the output levels, a permutation; (c) per intermediate block at feature
f: level offset, block type, first parent, second parent (> first) from the last `window`
features {max(0, f-window) .. f-1}, stem included; (d) per output block: block type, first
parent, second parent (> first) from all earlier features. Steps with a single option are left
out, and so are (a) and (b) when `options.ordering` fixes the order. A decision is an index into
its step's options; the options of a step never depend on earlier answers, only its mask does.

Masks: a base level is valid while the multiset still holds it; an output level while unused;
an offset while base + offset stays a valid level [1, 7]; a first parent unless it is the last
candidate; a second parent when above the first. No mask can be all False (each rule leaves one
option by construction, and `mask` asserts it). With `dead_blocks="forbid"` the block steps'
masks are narrowed further to the options that leave a completion without dead blocks
(`dead_free.py`, exact and never empty); the default "allow" keeps the paper's space.

`Walk` is the incremental form of the masks that controllers use while they decide:
`space.walk(prefix)` then `walk.mask()`, `walk.valid_choices()`, `walk.push(choice)` (checked)
or `walk.take(choice)` (known valid), and `walk.decisions`.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from search_space.errors import SpecError
from search_space.orderings import fixed_levels
from search_space.space_options import FORBID_DEAD, SpaceOptions
from search_space.spec import ArchSpec, BlockSpec
from search_space.validation import HIGHEST_LEVEL, LOWEST_LEVEL, is_int

BASE_LEVEL, OUTPUT_LEVEL = "base_level", "output_level"
LEVEL_OFFSET, BLOCK_FN = "level_offset", "block_fn"
PARENT0, PARENT1 = "parent0", "parent1"
STEP_KINDS = (BASE_LEVEL, OUTPUT_LEVEL, LEVEL_OFFSET, BLOCK_FN, PARENT0, PARENT1)
LEVEL_STEPS = (BASE_LEVEL, OUTPUT_LEVEL)
MAX_MUTATION_TRIES = 10_000  # a real space succeeds in a few tries; only a one-spec space runs out


@dataclass(frozen=True)
class Step:
    """One decision: its kind, the block position it belongs to, and its fixed options."""

    index: int  # position in the decision list
    kind: str  # one of STEP_KINDS
    position: int  # intermediate/output position (0-based) this step decides for
    feature: int | None  # feature index of the block it decides for (None for level picks)
    options: tuple  # values: levels, offsets, block types or parent feature indices


def level_is_valid(level: int) -> bool:
    """The offset-mask rule: an adjusted level must stay a spec level."""
    return LOWEST_LEVEL <= level <= HIGHEST_LEVEL


class Walk:
    """The values of a decision prefix, grown one decision at a time (each step O(options))."""

    def __init__(self, space: SearchSpace):
        self.space = space
        self.left = Counter(space.options.intermediate_levels)  # base levels not yet picked
        self.bases: list[int] = list(space.fixed_bases or ())  # base level per intermediate
        self.outputs: list[int] = list(space.fixed_outputs or ())  # level per output position
        self.values: dict[tuple[str, int], object] = {}  # (kind, feature) -> block-step value
        self.decisions: list[int] = []

    @property
    def step(self) -> Step:
        """The next step to decide."""
        return self.space.steps[len(self.decisions)]

    def mask(self) -> tuple[bool, ...]:
        """Valid options of the next step; never all False."""
        step = self.space.steps[len(self.decisions)]
        kind = step.kind
        if kind == LEVEL_OFFSET:
            key = self.bases[step.position]
        elif kind == PARENT1:
            key = self.values[PARENT0, step.feature]
        elif kind == BASE_LEVEL:
            return self._checked(step, tuple(self.left[v] > 0 for v in step.options))
        elif kind == OUTPUT_LEVEL:
            return self._checked(step, tuple(v not in self.outputs for v in step.options))
        else:
            key = None
        mask = self.space.static_masks[step.index][key]  # asserted non-empty when built
        return self._checked(step, self.space.restrict(self, mask)) if self.space.restrict else mask

    @staticmethod
    def _checked(step: Step, mask: tuple[bool, ...]) -> tuple[bool, ...]:
        assert any(mask), f"step {step.index} ({step.kind}) has no valid option"
        return mask

    def push(self, choice: int) -> None:
        """Take option `choice` at the next step.

        Raises:
            SpecError: `choice` is not an option index, or its option is masked.
        """
        mask = self.mask()
        if type(choice) is int and 0 <= choice < len(mask) and mask[choice]:
            self.take(choice)
            return
        step = self.step
        if is_int(choice) and 0 <= choice < len(mask):
            raise SpecError(f"decision {step.index} ({step.kind}) picks masked option {step.options[choice]!r}")
        raise SpecError(f"decision {step.index} is {choice!r}; it must be an option index in [0, {len(mask)})")

    def take(self, choice: int) -> None:
        """Take option `choice` at the next step, already known to be valid."""
        step = self.space.steps[len(self.decisions)]
        value = step.options[choice]
        if step.kind == BASE_LEVEL:
            self.left[value] -= 1
            self.bases.append(value)
        elif step.kind == OUTPUT_LEVEL:
            self.outputs.append(value)
        else:
            self.values[step.kind, step.feature] = value
        self.decisions.append(choice)

    def child(self, choice: int) -> Walk:
        """A copy of this walk with `choice` taken (checked); this walk is unchanged."""
        new = Walk.__new__(Walk)
        new.space, new.left = self.space, Counter(self.left)
        new.bases, new.outputs = list(self.bases), list(self.outputs)
        new.values, new.decisions = dict(self.values), list(self.decisions)
        new.push(choice)
        return new

    def valid_choices(self) -> list[int]:
        """Indices of the next step's valid options."""
        return [i for i, ok in enumerate(self.mask()) if ok]


class SearchSpace:
    """A search space: its steps, masks, decode/encode, sampling and mutation."""

    def __init__(self, options: SpaceOptions):
        self.options = options
        self.num_stem = len(options.stem)
        self.num_intermediate = len(options.intermediate_levels)
        self.num_output = len(options.output_levels)
        self.base_level_values = tuple(sorted(set(options.intermediate_levels)))
        # base levels / output levels in block order when the space does not decide them
        self.fixed_bases, self.fixed_outputs = self._fixed_orders()
        self.steps: tuple[Step, ...] = tuple(self._build_steps())
        # per step: its masks keyed by the one earlier value they depend on (see _static_masks)
        self.static_masks = {step.index: self._static_masks(step) for step in self.steps}
        self.restrict = None  # a look-ahead that narrows the block steps' masks, or None
        if options.dead_blocks == FORBID_DEAD:
            from search_space.dead_free import dead_free_mask  # it reads this module's step kinds

            self.restrict = dead_free_mask

    # ---- construction -------------------------------------------------------------------
    @classmethod
    def from_seed(cls, name: str = "resnet50", **overrides) -> SearchSpace:
        """The space derived from a named seed allocation (see `seeds.py`), with overrides.

        Raises:
            SpecError: unknown seed or bad override (see `seeds.seed_options`).
        """
        from search_space.seeds import seed_options

        return cls(seed_options(name, **overrides))

    def _fixed_orders(self) -> tuple[tuple[int, ...] | None, tuple[int, ...] | None]:
        """The orders a fixed `ordering` sets, or a single repeated level leaves (else None)."""
        opts = self.options
        fixed = fixed_levels(opts.ordering, opts.intermediate_levels, opts.output_levels)
        if fixed:
            return fixed
        bases = opts.intermediate_levels if len(self.base_level_values) == 1 else None
        return bases, (opts.output_levels if len(opts.output_levels) == 1 else None)

    def candidate_parents(self, feature: int, is_output: bool) -> tuple[int, ...]:
        """Features a block at `feature` may take as parents (window for intermediates)."""
        low = 0 if is_output else max(0, feature - self.options.window)
        return tuple(range(low, feature))

    def _level_steps(self) -> list[tuple[str, int, int | None, tuple]]:
        raw: list[tuple[str, int, int | None, tuple]] = []
        if self.fixed_bases is None:
            raw += [(BASE_LEVEL, i, None, self.base_level_values) for i in range(self.num_intermediate)]
        if self.fixed_outputs is None:
            raw += [(OUTPUT_LEVEL, j, None, self.options.output_levels) for j in range(self.num_output)]
        return raw

    def _block_steps(self, position: int, feature: int, is_output: bool) -> list[tuple]:
        parents = self.candidate_parents(feature, is_output)
        raw = [] if is_output else [(LEVEL_OFFSET, position, feature, self.options.level_offsets)]
        raw += [(BLOCK_FN, position, feature, self.options.block_fns)]
        return raw + [(PARENT0, position, feature, parents), (PARENT1, position, feature, parents)]

    def _build_steps(self) -> list[Step]:
        raw = self._level_steps()
        for i in range(self.num_intermediate):
            raw += self._block_steps(i, self.num_stem + i, is_output=False)
        for j in range(self.num_output):
            raw += self._block_steps(j, self.num_stem + self.num_intermediate + j, is_output=True)
        kept = [r for r in raw if len(r[3]) > 1]
        return [Step(k, kind, pos, feat, opts) for k, (kind, pos, feat, opts) in enumerate(kept)]

    # ---- masks --------------------------------------------------------------------------
    def _static_masks(self, step: Step) -> dict:
        """Masks of a step that depend on one earlier value only, keyed by that value: the base
        level (offsets), the first parent (second parent), or nothing (None)."""
        opts = step.options
        if step.kind == LEVEL_OFFSET:
            table = {b: tuple(level_is_valid(b + off) for off in opts) for b in self.options.intermediate_levels}
        elif step.kind == PARENT1:
            table = {first: tuple(v > first for v in opts) for first in opts[:-1]}
        elif step.kind == PARENT0:
            table = {None: tuple(k < len(opts) - 1 for k in range(len(opts)))}
        else:
            table = {None: (True,) * len(opts)}
        for key, mask in table.items():
            assert any(mask), f"step {step.index} ({step.kind}) has no valid option for {key!r}"
        return table

    def walk(self, decisions: Sequence[int]) -> Walk:
        """The walk after a (checked) decision prefix.

        Raises:
            SpecError: a decision that is not a valid option index, or too many decisions.
        """
        if len(decisions) > len(self.steps):
            raise SpecError(f"got {len(decisions)} decisions; this space takes exactly {len(self.steps)}")
        state = Walk(self)
        for choice in decisions:
            state.push(choice)
        return state

    def mask(self, prefix: Sequence[int]) -> tuple[bool, ...]:
        """Valid options of step len(prefix) given the earlier decisions; never all False."""
        if len(prefix) >= len(self.steps):
            raise SpecError(f"prefix of {len(prefix)} decisions leaves no step; the space has {len(self.steps)}")
        return self.walk(prefix).mask()

    def masks(self, decisions: Sequence[int]) -> tuple[tuple[bool, ...], ...]:
        """The mask of every step k given decisions[:k], for k < len(decisions), in one pass."""
        state, result = Walk(self), []
        for choice in decisions:
            result.append(state.mask())
            state.push(choice)
        return tuple(result)

    # ---- decode / encode ----------------------------------------------------------------
    def check_decisions(self, decisions: Sequence[int]) -> None:
        """Raise SpecError unless `decisions` is a complete list of valid choices."""
        self._complete_walk(decisions)

    def _complete_walk(self, decisions: Sequence[int]) -> Walk:
        if len(decisions) != len(self.steps):
            raise SpecError(f"got {len(decisions)} decisions; this space takes exactly {len(self.steps)}")
        return self.walk(decisions)

    def decode(self, decisions: Sequence[int], name: str = "candidate") -> ArchSpec:
        """The (always valid) spec of a complete decision list.

        Raises:
            SpecError: wrong length, or a decision that is out of range or masked.
        """
        blocks = tuple(BlockSpec(*fields) for fields in self.block_fields(decisions))
        opts = self.options
        return ArchSpec(name, blocks, opts.stem, opts.min_level, opts.max_level)

    def block_fields(self, decisions: Sequence[int]) -> list[tuple[int, str, tuple[int, int], bool]]:
        """(level, block_fn, inputs, is_output) of each block of a complete decision list.

        Raises:
            SpecError: as `decode`.
        """
        state = self._complete_walk(list(decisions))
        get = state.values.get
        default_fn = self.options.block_fns[0]
        levels = [(base + get((LEVEL_OFFSET, self.num_stem + i), 0), False) for i, base in enumerate(state.bases)]
        levels += [(level, True) for level in state.outputs]
        return [
            (level, get((BLOCK_FN, f), default_fn), (get((PARENT0, f)), get((PARENT1, f))), is_output)
            for f, (level, is_output) in enumerate(levels, start=self.num_stem)
        ]

    def encode(self, spec: ArchSpec) -> tuple[int, ...]:
        """The canonical decision list of a spec in this space (rule in `encoding.py`).

        Raises:
            SpecError: the spec is not in this space; the message says why.
        """
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
    def sample(self, seed: int, k: int) -> tuple[int, ...]:
        """The k-th seeded sample: uniform over valid options at each step, and its
        randomness depends only on (seed, k), so any sampler can be rebuilt after a crash."""
        return self.draw(random.Random(f"sample:{seed}:{k}"))

    def draw(self, rng: random.Random) -> tuple[int, ...]:
        """A decision list drawn with `rng`: a uniformly chosen valid option at every step."""
        state = Walk(self)
        for _ in self.steps:
            state.take(rng.choice(state.valid_choices()))
        return tuple(state.decisions)

    def sample_spec(self, seed: int, k: int) -> ArchSpec:
        """Decoded k-th seeded sample, named `<space>-s<seed>-<k>`."""
        return self.decode(self.sample(seed, k), name=f"{self.options.name}-s{seed}-{k}")

    def mutate(self, decisions: Sequence[int], rng: random.Random) -> tuple[int, ...]:
        """Change one decision to another valid option, re-sampling only later decisions it made
        invalid; the result always decodes to a spec different from the input's.

        Raises:
            SpecError: `decisions` is not a complete valid list, or no different spec was found
                (a space with a single spec).
        """
        decisions = tuple(decisions)
        original = self.decode(decisions)
        for _ in range(MAX_MUTATION_TRIES):
            mutated = self._mutate_once(decisions, rng) if self.steps else None
            if mutated is not None and self.decode(mutated) != original:
                return mutated
        raise SpecError(
            f"no mutation of this spec found in {MAX_MUTATION_TRIES} tries; the space may hold one spec only"
        )

    def _mutate_once(self, decisions: tuple[int, ...], rng: random.Random) -> tuple[int, ...] | None:
        k = rng.randrange(len(self.steps))
        state = self.walk(decisions[:k])
        choices = [i for i in state.valid_choices() if i != decisions[k]]
        if not choices:
            return None
        state.take(rng.choice(choices))
        for old in decisions[k + 1 :]:
            state.take(old if state.mask()[old] else rng.choice(state.valid_choices()))
        return tuple(state.decisions)
