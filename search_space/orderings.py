"""Fixed scale orderings for the paper's Table 8 ablation (docs/facts.md §7.2): is a learned permutation
better than a hand-made shape when the cross-scale connections are still searched?

An ordering fixes the order of the intermediate base levels and of the output levels; the
search then decides connections (and block adjustments, if the space has them) only. Each shape
is defined for any seed allocation, so it works for every R[N]-SP[M] seed as well:

- ``searched`` — no fixed order: the permutation is part of the search (the paper's space).
- ``hourglass`` — Stacked Hourglass / FPN: one way down the pyramid, then one way up. The
  intermediates in ascending level order (the bottom-up, scale-decreasing path of a ResNet),
  then the outputs from the coarsest to the finest level, L7 … L3 (the top-down path of FPN,
  whose P6/P7 sit on top of C5). For ResNet-50: 2 3 3 3 4 4 4 4 4 5 | 7 6 5 4 3.
- ``fish`` — FishNet: tail down, body up, head down again. The tail visits every distinct base
  level once in ascending order (it reaches the coarsest scale as fast as the allocation
  allows), the body takes the remaining intermediates in descending order (back towards fine
  resolution), and the head is the outputs in ascending order L3 … L7. For ResNet-50:
  2 3 4 5 4 4 4 4 3 3 | 3 4 5 6 7.

Level offsets, when searched, still move each intermediate block from its fixed base level;
the shape is the order of base levels, as in the paper where only the permutation is fixed.
"""

from __future__ import annotations

from collections import Counter

SEARCHED, HOURGLASS, FISH = "searched", "hourglass", "fish"
ORDERINGS = (SEARCHED, HOURGLASS, FISH)


def _hourglass(intermediate: tuple[int, ...], outputs: tuple[int, ...]) -> tuple[tuple[int, ...], tuple[int, ...]]:
    return tuple(sorted(intermediate)), tuple(sorted(outputs, reverse=True))


def _fish(intermediate: tuple[int, ...], outputs: tuple[int, ...]) -> tuple[tuple[int, ...], tuple[int, ...]]:
    tail = tuple(sorted(set(intermediate)))
    body = tuple(sorted((Counter(intermediate) - Counter(tail)).elements(), reverse=True))
    return tail + body, tuple(sorted(outputs))


_SHAPES = {HOURGLASS: _hourglass, FISH: _fish}


def fixed_levels(
    ordering: str, intermediate_levels: tuple[int, ...], output_levels: tuple[int, ...]
) -> tuple[tuple[int, ...], tuple[int, ...]] | None:
    """The fixed (intermediate base levels, output levels) order of a shape.

    Args:
        ordering: one of ORDERINGS.
        intermediate_levels: the seed's multiset of intermediate base levels.
        output_levels: the output levels (one block each).
    Returns:
        (intermediate order, output order), each a permutation of its input; None for
        ``searched``, where the search decides the order.
    Raises:
        KeyError: unknown ordering (SpaceOptions checks the name before calling this).
    """
    if ordering == SEARCHED:
        return None
    return _SHAPES[ordering](tuple(intermediate_levels), tuple(output_levels))
