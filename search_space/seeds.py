"""Seed networks a search space is derived from (facts §1.1, Table 1).

`resnet50` is SpineNet-49's space: ResNet-50's blocks with one L5 block traded for L6 and L7,
two L2 stem blocks, ten intermediates {L2:1, L3:3, L4:5, L5:1}, outputs L3..L7, with block
adjustments. The R[N]-SP[M] seeds move N layers into a longer scale-decreased stem and, as in
the paper, search orderings and connections only (adjustments off; override to switch on).
Each intermediate allocation is Table 1's scale-permuted allocation minus one output per level.
"""

from __future__ import annotations

from search_space.errors import SpecError
from search_space.space_options import SpaceOptions


def _stem(counts: dict[int, int]) -> tuple[tuple[int, str], ...]:
    return tuple((level, "bottleneck") for level in sorted(counts) for _ in range(counts[level]))


def _levels(counts: dict[int, int]) -> tuple[int, ...]:
    return tuple(level for level in sorted(counts) for _ in range(counts[level]))


NO_ADJUSTMENTS = {"level_offsets": (0,), "block_fns": ("bottleneck",)}

SEEDS: dict[str, dict] = {
    "resnet50": {"stem": _stem({2: 2}), "intermediate_levels": _levels({2: 1, 3: 3, 4: 5, 5: 1})},
    "r0-sp53": {"stem": _stem({2: 2}), "intermediate_levels": _levels({2: 1, 3: 3, 4: 5, 5: 1}), **NO_ADJUSTMENTS},
    "r14-sp39": {"stem": _stem({2: 1, 3: 1, 4: 1, 5: 1}), "intermediate_levels": _levels({2: 2, 3: 2, 4: 4}), **NO_ADJUSTMENTS},
    "r23-sp30": {"stem": _stem({2: 2, 3: 2, 4: 2, 5: 1}), "intermediate_levels": _levels({2: 1, 3: 1, 4: 3}), **NO_ADJUSTMENTS},
    "r35-sp18": {"stem": _stem({2: 2, 3: 3, 4: 5, 5: 1}), "intermediate_levels": _levels({2: 1}), **NO_ADJUSTMENTS},
}


def seed_options(name: str, **overrides) -> SpaceOptions:
    """SpaceOptions of a named seed, with any field overridden.

    Raises:
        SpecError: unknown seed name (listing the known ones) or unknown field.
    """
    if name not in SEEDS:
        raise SpecError(f"unknown search-space seed '{name}'; known: {', '.join(SEEDS)}")
    fields = {**SEEDS[name], **overrides}
    try:
        return SpaceOptions(name=name, **fields)
    except TypeError as err:
        raise SpecError(f"bad search-space option for '{name}': {err}") from None
