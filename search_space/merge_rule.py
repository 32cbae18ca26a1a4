"""The output-merge rule of Google's SpineNet builder (docs/facts.md §2.3), as a pure function of a spec.

When an output block is built, its parents' out-degrees are incremented first; then every
earlier feature (stem included) whose out-degree is still 0 and whose width and channel count
equal the output block's input is added into the sum directly (no resampling) and marked used.
Same width means same level (true for any input of at least 2**max_level pixels, which every
configured input size is); same channels means same level and same block type (a residual block
has C channels, a bottleneck 4C). The builder and the drawings both use this one function.
"""

from __future__ import annotations

from search_space.spec import ArchSpec


def implicit_merges(spec: ArchSpec) -> dict[int, tuple[int, ...]]:
    """Map output feature index -> features merged into it without resampling (often empty)."""
    out_degree = [0] * spec.num_features
    merges: dict[int, tuple[int, ...]] = {}
    for k, block in enumerate(spec.blocks):
        feature = spec.num_stem + k
        for parent in spec.live_inputs(k):
            out_degree[parent] += 1
        if not block.is_output:
            continue
        merged = tuple(
            j
            for j in range(feature)
            if out_degree[j] == 0
            and spec.feature_level(j) == block.level
            and spec.feature_block_fn(j) == block.block_fn
        )
        for j in merged:
            out_degree[j] += 1
        merges[feature] = merged
    return merges
