"""Connection ablations of the paper's Table 9 (docs/facts.md §7.3): a spec's cross-scale connections
damaged so that every block is left with one input.

- ``no-short-range`` — each block keeps only its longer-range parent (the earlier feature);
- ``no-long-range`` — each block keeps only its shorter-range parent (the later feature);
- ``sequential`` — both removed; each block takes the feature built just before it.

A damaged spec is the intact spec (every block still names its two parents, so the spec
language's rules stay whole) plus its `damage` field; `live_inputs` is the one place that says
which parents a block really takes, and the builder, the output-merge rule and the drawings all
ask it. "Range" is the distance in build order between a block and its parent (feature index),
the reading under which the paper's output blocks "prefer long-range connections" (§5.2); the
paper gives no numeric definition (docs/facts.md §8). The output-merge rule still applies, so a
block that loses all its consumers is merged into a same-level output block as Google's builder
would. Damaged specs lie outside every search space and have no TF Model Garden form.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from search_space.errors import SpecError

if TYPE_CHECKING:
    from search_space.spec import ArchSpec

NO_SHORT_RANGE, NO_LONG_RANGE, SEQUENTIAL = "no-short-range", "no-long-range", "sequential"
DAMAGES = (NO_SHORT_RANGE, NO_LONG_RANGE, SEQUENTIAL)
INTACT = ""


def live_inputs(damage: str, inputs: tuple[int, int], feature: int) -> tuple[int, ...]:
    """The parents a block at `feature` really takes: both when intact, one when damaged."""
    if damage == INTACT:
        return inputs
    if damage == NO_SHORT_RANGE:
        return (min(inputs),)
    if damage == NO_LONG_RANGE:
        return (max(inputs),)
    return (feature - 1,)


def check_damage(damage: str) -> None:
    """Raises SpecError for anything but intact ('') or a known damage."""
    if damage != INTACT and damage not in DAMAGES:
        raise SpecError(f"connection damage {damage!r} is unknown; use one of {', '.join(DAMAGES)}")


def damage_connections(spec: ArchSpec, damage: str) -> ArchSpec:
    """`spec` with its connections damaged, named '<name>~<damage>'.

    Raises:
        SpecError: unknown damage (the known ones are listed), or a spec that is already damaged.
    """
    check_damage(damage)
    if damage == INTACT or spec.damage != INTACT:
        raise SpecError(f"spec '{spec.name}' cannot be damaged as {damage!r}; give an intact spec and one of "
                        f"{', '.join(DAMAGES)}")
    return replace(spec, name=f"{spec.name}~{damage}", damage=damage, note=f"Table 9 ablation: {damage}")
