"""The rules every architecture spec obeys, each checked with a message that names the block,
the value, the rule and the fix. `spec.py` calls these when a spec is built."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from search_space.ablations import check_damage
from search_space.errors import SpecError

if TYPE_CHECKING:
    from search_space.spec import ArchSpec

BLOCK_FN_NAMES = ("bottleneck", "residual")
LOWEST_LEVEL = 1  # 1/2 of the input; the stem conv output
HIGHEST_LEVEL = 7  # 1/128 of the input; SpineNet's P7


def is_int(value: object) -> bool:
    """True for a real integer; `True`/`False` are not integers in a spec."""
    return isinstance(value, int) and not isinstance(value, bool)


def check_level(value: object, where: str) -> None:
    """A level is an integer in [1, 7]."""
    if isinstance(value, float) and math.isnan(value):
        raise SpecError(f"{where} has level NaN; a level must be an integer in [1, 7]")
    if not is_int(value):
        raise SpecError(f"{where} has level {value!r}; a level must be an integer in [1, 7]")
    if not LOWEST_LEVEL <= value <= HIGHEST_LEVEL:
        raise SpecError(
            f"{where} has level {value}, outside [{LOWEST_LEVEL}, {HIGHEST_LEVEL}]; "
            "use a level between 1 (stride 2) and 7 (stride 128)"
        )


def check_block_fn(value: object, where: str) -> None:
    """A block type is one of the known names."""
    if value not in BLOCK_FN_NAMES:
        raise SpecError(
            f"{where} has block_fn {value!r}, which is unknown; use one of {', '.join(BLOCK_FN_NAMES)}"
        )


def check_block_fields(level, block_fn, inputs, is_output, where: str) -> None:
    """Type and range checks of one block, independent of its position."""
    check_level(level, where)
    check_block_fn(block_fn, where)
    if not isinstance(is_output, bool):
        raise SpecError(f"{where} has is_output {is_output!r}; is_output must be true or false")
    if not isinstance(inputs, (tuple, list)) or len(inputs) != 2:
        raise SpecError(
            f"{where} has inputs {inputs!r}; every block takes exactly two parent feature indices"
        )
    for value in inputs:
        if not is_int(value) or value < 0:
            raise SpecError(
                f"{where} has input {value!r}; inputs must be non-negative integer feature indices"
            )


def check_stem(stem) -> None:
    """The stem is a non-empty scale-decreased chain of (level, block_fn) pairs at L2 or above."""
    if len(stem) == 0:
        raise SpecError("stem is empty; give at least one (level, block_fn) stem block, e.g. [[2, 'bottleneck']]")
    previous = 2
    for i, entry in enumerate(stem):
        where = f"stem block {i}"
        if not isinstance(entry, (tuple, list)) or len(entry) != 2:
            raise SpecError(f"{where} is {entry!r}; a stem block is a pair [level, block_fn]")
        level, block_fn = entry
        check_level(level, where)
        check_block_fn(block_fn, where)
        if level < previous:
            raise SpecError(
                f"{where} has level {level} after level {previous}; the stem is scale-decreased, "
                "so its levels start at 2 and never go down"
            )
        previous = level


def check_level_range(spec: ArchSpec) -> None:
    """min_level and max_level are integer levels with min_level <= max_level."""
    for name in ("min_level", "max_level"):
        check_level(getattr(spec, name), name)
    if spec.min_level > spec.max_level:
        raise SpecError(
            f"min_level {spec.min_level} is above max_level {spec.max_level}; swap them"
        )


def check_parents(spec: ArchSpec) -> None:
    """Each block's two parents are distinct and earlier features."""
    m = spec.num_stem
    for k, block in enumerate(spec.blocks):
        feature = m + k
        where = f"block {k} (feature {feature}, level {block.level})"
        low, high = block.inputs
        if low == high:
            raise SpecError(
                f"{where} takes input {low} twice; the two parents must be different features"
            )
        if high >= feature:
            raise SpecError(
                f"{where} takes input {high}, which is not an earlier feature; "
                f"inputs must be < {feature}"
            )


def check_outputs(spec: ArchSpec) -> None:
    """Exactly one output block per level in [min_level, max_level], and at most one per level
    outside it: such an output (Model Garden's L2 entry) is used only by a model whose levels
    include it, as TF Model Garden does (`reachability.unused_output_note` says so)."""
    seen: dict[int, int] = {}
    for k, block in enumerate(spec.blocks):
        if not block.is_output:
            continue
        where = f"block {k} (feature {spec.num_stem + k}, level {block.level})"
        if block.level in seen:
            raise SpecError(
                f"{where} is a second output at level {block.level} (block {seen[block.level]} is "
                "the first); keep exactly one output block per level"
            )
        seen[block.level] = k
    missing = [lv for lv in range(spec.min_level, spec.max_level + 1) if lv not in seen]
    if missing:
        raise SpecError(
            f"spec '{spec.name}' has no output block at level(s) {missing}; every level in "
            f"[{spec.min_level}, {spec.max_level}] needs exactly one block with is_output=true"
        )


def check_arch(spec: ArchSpec) -> None:
    """All rules of a whole architecture; raises `SpecError` on the first broken one."""
    if not isinstance(spec.name, str) or not spec.name:
        raise SpecError(f"spec name {spec.name!r} is not a non-empty string; give the spec a name")
    check_stem(spec.stem)
    check_level_range(spec)
    if len(spec.blocks) == 0:
        raise SpecError(f"spec '{spec.name}' has no blocks; list its scale-permuted blocks")
    for k, block in enumerate(spec.blocks):
        if type(block).__name__ != "BlockSpec":
            raise SpecError(f"block {k} is {type(block).__name__}, not a BlockSpec")
    check_parents(spec)
    check_outputs(spec)
    check_damage(spec.damage)
