"""Options that define a search space, as plain frozen data (printable, serializable).

A space is derived from a seed network's block allocation (docs/facts.md §1.1, Table 1). A step whose
option list has a single entry is not a decision at all and is left out of the sequence; so
`level_offsets=(0,)` and `block_fns=("bottleneck",)` switch block adjustments off, as in the
paper's R[N]-SP[M] experiments. `ordering` fixes the scale permutation to a hand-made shape
(the paper's Table 8 ablation, see `orderings.py`); the default searches it.

`to_dict()` gives plain JSON data and `SpaceOptions.from_dict(d)` takes it back.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

from search_space.errors import SpecError
from search_space.orderings import ORDERINGS, SEARCHED
from search_space.spec import SPINENET_STEM
from search_space.validation import BLOCK_FN_NAMES, HIGHEST_LEVEL, LOWEST_LEVEL, check_stem

ALLOW_DEAD, FORBID_DEAD = "allow", "forbid"
DEAD_BLOCK_MODES = (ALLOW_DEAD, FORBID_DEAD)  # option `dead_blocks` (see `dead_free.py`)


@dataclass(frozen=True)
class SpaceOptions:
    """Everything that defines one search space."""

    # seed the space is derived from (a key of `seeds.SEEDS`, or any label for custom options)
    name: str = "resnet50"
    # (level, block_fn) stem chain; every stem block is a candidate parent
    stem: tuple[tuple[int, str], ...] = SPINENET_STEM
    # multiset of intermediate base levels, sorted (ResNet-50: {L2:1, L3:3, L4:5, L5:1})
    intermediate_levels: tuple[int, ...] = (2, 3, 3, 3, 4, 4, 4, 4, 4, 5)
    # output levels, one block each (P3..P7), permuted by the search
    output_levels: tuple[int, ...] = (3, 4, 5, 6, 7)
    # level adjustment of intermediate blocks (paper: {-1, 0, 1, 2}); (0,) switches it off
    level_offsets: tuple[int, ...] = (-1, 0, 1, 2)
    # block types every block may choose; ("bottleneck",) switches the choice off
    block_fns: tuple[str, ...] = ("bottleneck", "residual")
    # intermediates take parents from the last `window` features (paper: 5); outputs from all
    window: int = 5
    # "searched" (the paper's space) or a fixed shape for Table 8: "hourglass", "fish"
    ordering: str = SEARCHED
    # "allow" (the paper's and Google's spaces) or "forbid": masks keep out blocks that feed no output
    dead_blocks: str = ALLOW_DEAD

    def __post_init__(self) -> None:
        check_stem(self.stem)
        object.__setattr__(self, "stem", tuple(tuple(s) for s in self.stem))
        object.__setattr__(self, "intermediate_levels", tuple(sorted(self.intermediate_levels)))
        object.__setattr__(self, "output_levels", tuple(sorted(self.output_levels)))
        for name in ("level_offsets", "block_fns"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        check_options(self)

    @property
    def min_level(self) -> int:
        return min(self.output_levels)

    @property
    def max_level(self) -> int:
        return max(self.output_levels)

    @property
    def adjustments(self) -> bool:
        """True when level offsets or block types are searched."""
        return len(self.level_offsets) > 1 or len(self.block_fns) > 1

    def to_dict(self) -> dict:
        """JSON-ready dict of the options (lists for tuples)."""
        data = asdict(self)
        data["stem"] = [list(s) for s in self.stem]
        return {k: list(v) if isinstance(v, tuple) else v for k, v in data.items()}

    @classmethod
    def from_dict(cls, data: dict) -> SpaceOptions:
        """Options from `to_dict()`-style data; missing keys take the defaults.

        Raises:
            SpecError: unknown keys (named) or values that break a rule of `check_options`.
        """
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise SpecError(f"unknown search-space option(s) {unknown}; known: {sorted(known)}")
        values = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items()}
        return cls(**values)


def _check_levels(options: SpaceOptions) -> None:
    outputs = options.output_levels
    if not outputs or list(outputs) != list(range(outputs[0], outputs[-1] + 1)):
        raise SpecError(f"output_levels {list(outputs)} must be consecutive distinct levels, e.g. [3, 4, 5, 6, 7]")
    for name in ("intermediate_levels", "output_levels"):
        if any(not LOWEST_LEVEL <= lv <= HIGHEST_LEVEL for lv in getattr(options, name)):
            raise SpecError(f"{name} {list(getattr(options, name))} must lie in [{LOWEST_LEVEL}, {HIGHEST_LEVEL}]")


def check_options(options: SpaceOptions) -> None:
    """Reject options that would give a step with no valid choice.

    Raises:
        SpecError: naming the option, its value and the rule.
    """
    if not isinstance(options.name, str) or not options.name:
        raise SpecError(f"space name {options.name!r} must be a non-empty string")
    if len(options.stem) < 2:
        raise SpecError("a search space needs at least two stem blocks so the first block has two parents")
    if not isinstance(options.window, int) or options.window < 2:
        raise SpecError(f"window {options.window!r} is below 2; a block needs two candidate parents")
    _check_levels(options)
    if 0 not in options.level_offsets or len(set(options.level_offsets)) != len(options.level_offsets):
        raise SpecError(f"level_offsets {list(options.level_offsets)} must be distinct and include 0 (the base level)")
    fns = options.block_fns
    if not fns or any(fn not in BLOCK_FN_NAMES for fn in fns) or len(set(fns)) != len(fns):
        raise SpecError(f"block_fns {list(fns)} must be a non-empty subset of {list(BLOCK_FN_NAMES)}")
    if options.dead_blocks not in DEAD_BLOCK_MODES:
        raise SpecError(f"dead_blocks {options.dead_blocks!r} is unknown; use one of {', '.join(DEAD_BLOCK_MODES)}")
    if options.ordering not in ORDERINGS:
        raise SpecError(f"ordering {options.ordering!r} is unknown; use one of {', '.join(ORDERINGS)}")
