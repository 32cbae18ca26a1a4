"""The drawing of a spec as frozen data: one node per feature, one edge per connection.

Nodes sit left to right in build order (stem first: x = feature index) and at their level
(y). Edges are the two parents of every block, plus the implicit output-merge connections of
`search_space.merge_rule.implicit_merges` (kind "merge"), which the builder adds without
resampling. A node is `dead` when no path leads from it to an output
(`search_space.reachability`): the builder leaves it out, and the drawing shows it faded.
Rendering (`draw.py`) interprets this data in one place.
"""

from __future__ import annotations

from dataclasses import dataclass

from search_space.merge_rule import implicit_merges
from search_space.reachability import dead_features
from search_space.spec import ArchSpec

PARENT, MERGE = "parent", "merge"


@dataclass(frozen=True)
class Node:
    """One feature of the backbone: a stem block or a scale-permuted block."""

    feature: int  # feature index = build order = x position
    level: int  # resolution level = y position and colour
    block_fn: str  # "bottleneck" | "residual": the node's shape
    is_stem: bool  # part of the fixed scale-decreased stem
    output_level: int | None  # P-level when this block is an output, else None
    dead: bool = False  # feeds no output: not built, not run, not counted


@dataclass(frozen=True)
class Edge:
    """A connection from an earlier feature into a block."""

    source: int
    target: int
    kind: str  # PARENT (resampled input) or MERGE (implicit same-level output merge)


@dataclass(frozen=True)
class Layout:
    """Everything a drawing of one spec shows."""

    name: str
    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]

    @property
    def levels(self) -> tuple[int, ...]:
        """The distinct levels present, ascending."""
        return tuple(sorted({n.level for n in self.nodes}))

    @property
    def dead(self) -> tuple[int, ...]:
        """Features that feed no output."""
        return tuple(n.feature for n in self.nodes if n.dead)

    def count(self, kind: str) -> int:
        """Number of edges of one kind."""
        return sum(1 for e in self.edges if e.kind == kind)


def _nodes(spec: ArchSpec) -> tuple[Node, ...]:
    dead = set(dead_features(spec))
    stem = tuple(Node(j, level, fn, True, None, j in dead) for j, (level, fn) in enumerate(spec.stem))
    blocks = tuple(
        Node(f, b.level, b.block_fn, False, b.level if b.is_output else None, f in dead)
        for f, b in enumerate(spec.blocks, start=spec.num_stem)
    )
    return stem + blocks


def _edges(spec: ArchSpec) -> tuple[Edge, ...]:
    parents = [
        Edge(parent, spec.num_stem + k, PARENT) for k in range(len(spec.blocks)) for parent in spec.live_inputs(k)
    ]
    merges = [Edge(src, out, MERGE) for out, srcs in implicit_merges(spec).items() for src in srcs]
    return tuple(parents + merges)


def layout_spec(spec: ArchSpec) -> Layout:
    """The layout of a (valid) spec.

    Args:
        spec: any `ArchSpec`.
    Returns:
        a `Layout` with `spec.num_features` nodes, two parent edges per block and one merge
        edge per implicit merge.
    """
    return Layout(spec.name, _nodes(spec), _edges(spec))
