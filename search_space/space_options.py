"""Options that define a search space, as plain frozen data (printable, serializable).

A space is derived from a seed network's block allocation (facts §1.1, Table 1). A step whose
option list has a single entry is not a decision at all and is left out of the sequence; so
`level_offsets=(0,)` and `block_fns=("bottleneck",)` switch block adjustments off, as in the
paper's R[N]-SP[M] experiments.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from search_space.errors import SpecError
from search_space.spec import SPINENET_STEM
from search_space.validation import BLOCK_FN_NAMES


@dataclass(frozen=True)
class SpaceOptions:
    """Everything that defines one search space."""

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

    def __post_init__(self) -> None:
        object.__setattr__(self, "stem", tuple(tuple(s) for s in self.stem))
        object.__setattr__(self, "intermediate_levels", tuple(sorted(self.intermediate_levels)))
        for name in ("output_levels", "level_offsets", "block_fns"):
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
        """JSON-ready dict of the options."""
        data = asdict(self)
        data["stem"] = [list(s) for s in self.stem]
        return {k: list(v) if isinstance(v, tuple) else v for k, v in data.items()}


def check_options(options: SpaceOptions) -> None:
    """Reject options that would give a step with no valid choice."""
    if len(options.stem) < 2:
        raise SpecError("a search space needs at least two stem blocks so the first block has two parents")
    if options.window < 2:
        raise SpecError(f"window {options.window} is below 2; a block needs two candidate parents")
    if sorted(options.output_levels) != list(range(options.min_level, options.max_level + 1)):
        raise SpecError(
            f"output_levels {list(options.output_levels)} must be consecutive distinct levels, e.g. [3, 4, 5, 6, 7]"
        )
    if not options.level_offsets or 0 not in options.level_offsets:
        raise SpecError(f"level_offsets {list(options.level_offsets)} must include 0 (the base level)")
    unknown = [fn for fn in options.block_fns if fn not in BLOCK_FN_NAMES]
    if unknown or not options.block_fns:
        raise SpecError(f"block_fns {list(options.block_fns)} must be a non-empty subset of {list(BLOCK_FN_NAMES)}")
    if any(not 1 <= lv <= 7 for lv in options.intermediate_levels):
        raise SpecError(f"intermediate_levels {list(options.intermediate_levels)} must lie in [1, 7]")
