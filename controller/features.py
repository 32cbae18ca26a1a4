"""A fixed-length numeric view of an architecture, for learned reward predictors (`predictor.py`).

`spec_features(spec)` gives six numbers per block, in block order (spec entry k, which is
feature m + k after the m stem blocks, docs/design.md §3.1):

- its level;
- 1.0 if it is a bottleneck block, else 0.0;
- the levels of its two parents, lower first (`spec.feature_level`, so a stem parent has the
  stem's level);
- the distance to each parent, in the same order: the block's feature index minus the
  parent's (1 = the feature just before it).

Parents of equal level are ordered by feature index, so the vector is a function of the spec.
`feature_names(spec)` names the entries (`b3_level`, `b3_bottleneck`, `b3_parent0_level`,
`b3_parent1_level`, `b3_parent0_distance`, `b3_parent1_distance`, for spec entry 3).

Why decoded levels rather than the raw decision indices: a block's level is its base level
plus a level offset, and many (base, offset) pairs give the same level, so the decisions are a
many-to-one code of the architecture; a parent is likewise an index into a window that moves
with the block. The decoded spec is the canonical view: two decision lists that build the same
network give the same vector, and the entries mean the same thing in every space with the same
number of blocks (resnet50's and r0-sp53's spaces both have 15 searched blocks, so their
vectors have the same length; r0-sp53's specs are all-bottleneck).

Standard library only.
"""

from __future__ import annotations

from search_space import ArchSpec

PER_BLOCK = ("level", "bottleneck", "parent0_level", "parent1_level", "parent0_distance", "parent1_distance")


def _parents(spec: ArchSpec, k: int) -> tuple[int, int]:
    """Block k's two parent features, lower level first (ties: lower feature index first)."""
    a, b = sorted(spec.blocks[k].inputs, key=lambda f: (spec.feature_level(f), f))
    return a, b


def spec_features(spec: ArchSpec) -> tuple[float, ...]:
    """`len(PER_BLOCK)` numbers per block of `spec`, in block order (module docstring)."""
    values: list[float] = []
    for k, block in enumerate(spec.blocks):
        feature = spec.num_stem + k
        p0, p1 = _parents(spec, k)
        values += [float(block.level), 1.0 if block.block_fn == "bottleneck" else 0.0,
                   float(spec.feature_level(p0)), float(spec.feature_level(p1)),
                   float(feature - p0), float(feature - p1)]
    return tuple(values)


def feature_names(spec: ArchSpec) -> tuple[str, ...]:
    """Names of `spec_features(spec)`'s entries, e.g. `b3_parent0_level`."""
    return tuple(f"b{k}_{name}" for k in range(len(spec.blocks)) for name in PER_BLOCK)
