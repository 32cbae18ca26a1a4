"""Seed networks a search space is derived from (docs/facts.md §1.1, Table 1).

`resnet50` is SpineNet-49's space: ResNet-50's blocks with one L5 block traded for L6 and L7,
two L2 stem blocks, ten intermediates {L2:1, L3:3, L4:5, L5:1}, outputs L3..L7, with block
adjustments. The R[N]-SP[M] seeds move N layers into a longer scale-decreased stem (every stem
block a candidate parent) and, as in the paper, search orderings and connections only
(adjustments off; pass `adjustments=True` to switch them on). Each intermediate allocation is
Table 1's scale-permuted allocation minus one output per level L3..L7.
"""

from __future__ import annotations

from search_space.errors import SpecError
from search_space.space_options import SpaceOptions


def _stem(counts: dict[int, int]) -> tuple[tuple[int, str], ...]:
    return tuple((level, "bottleneck") for level in sorted(counts) for _ in range(counts[level]))


def _levels(counts: dict[int, int]) -> tuple[int, ...]:
    return tuple(level for level in sorted(counts) for _ in range(counts[level]))


# The paper's block adjustments (docs/facts.md §1.2): level offsets {-1,0,1,2}, two block types.
ADJUSTMENTS = {"level_offsets": (-1, 0, 1, 2), "block_fns": ("bottleneck", "residual")}
NO_ADJUSTMENTS = {"level_offsets": (0,), "block_fns": ("bottleneck",)}

# Table 1 rows as (stem {level: count}, intermediate {level: count}); outputs are L3..L7.
TABLE1 = {
    "resnet50": ({2: 2}, {2: 1, 3: 3, 4: 5, 5: 1}, ADJUSTMENTS),
    "r0-sp53": ({2: 2}, {2: 1, 3: 3, 4: 5, 5: 1}, NO_ADJUSTMENTS),
    "r14-sp39": ({2: 1, 3: 1, 4: 1, 5: 1}, {2: 2, 3: 2, 4: 4}, NO_ADJUSTMENTS),
    "r23-sp30": ({2: 2, 3: 2, 4: 2, 5: 1}, {2: 1, 3: 1, 4: 3}, NO_ADJUSTMENTS),
    "r35-sp18": ({2: 2, 3: 3, 4: 5, 5: 1}, {2: 1}, NO_ADJUSTMENTS),
}

SEEDS: dict[str, dict] = {
    name: {"stem": _stem(stem), "intermediate_levels": _levels(inter), **adjust}
    for name, (stem, inter, adjust) in TABLE1.items()
}


def seed_names() -> tuple[str, ...]:
    """Names of the seeds a space can be derived from."""
    return tuple(SEEDS)


def seed_options(name: str, **overrides) -> SpaceOptions:
    """SpaceOptions of a named seed, with any field overridden.

    Args:
        name: a key of SEEDS.
        overrides: SpaceOptions fields, plus `adjustments` (bool): True sets the paper's
            offsets and block types, False switches both off (explicit fields win).
    Returns:
        The frozen options.
    Raises:
        SpecError: unknown seed name (listing the known ones), unknown field or bad value.
    """
    if name not in SEEDS:
        raise SpecError(f"unknown search-space seed '{name}'; known: {', '.join(SEEDS)}")
    switch = overrides.pop("adjustments", None)
    preset = {} if switch is None else (ADJUSTMENTS if switch else NO_ADJUSTMENTS)
    return SpaceOptions.from_dict({**SEEDS[name], **preset, **overrides, "name": name})
