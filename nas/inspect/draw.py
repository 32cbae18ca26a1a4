"""Drawing specs SpineNet-style (paper Fig. 1/4): blocks in build order, placed by level.

Interprets a `layout.Layout` in one place. Every block is a patch with SVG id `block-<f>`,
every parent connection an arrow with id `edge-<src>-<dst>`, every implicit output merge a
dashed arrow with id `merge-<src>-<dst>`, so tests and tools can count them in the SVG.
Colour = level, square = bottleneck, circle = residual, thick outline + "P<l>" = output block,
hatched = stem block, faded with a dotted outline = a dead block (feeds no output, not built),
whose arrows are faded too.
"""

from __future__ import annotations

from collections.abc import Sequence

from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Circle, FancyArrowPatch, Patch, Rectangle

from nas.inspect.figures import new_figure, save_figure, svg_text
from nas.inspect.layout import MERGE, PARENT, Layout, Node, layout_spec
from search_space.spec import ArchSpec
from search_space.validation import HIGHEST_LEVEL, LOWEST_LEVEL

NODE_SIZE = 0.52  # side of a bottleneck square / diameter of a residual circle, in grid units
INCH_PER_FEATURE = 0.62  # horizontal room per block: labels stay legible for 20+ blocks
INCH_PER_LEVEL = 0.66  # vertical room per level (same grid unit as a feature, plus labels)
ARC_ROOM = 0.6  # how far (in levels) an arc may bow beyond the lowest/highest level
PARENT_STYLE = {"color": "#4a4a4a", "linewidth": 1.0, "alpha": 0.75, "linestyle": "-"}
MERGE_STYLE = {"color": "#d62728", "linewidth": 1.6, "alpha": 0.95, "linestyle": (0, (4, 2))}
EDGE_STYLES = {PARENT: PARENT_STYLE, MERGE: MERGE_STYLE}
OUTPUT_EDGE = {"edgecolor": "black", "linewidth": 2.4}
PLAIN_EDGE = {"edgecolor": "#333333", "linewidth": 0.8}
DEAD_ALPHA = 0.3  # a dead block and its arrows are drawn this faint
DEAD_EDGE = {"edgecolor": "#333333", "linewidth": 1.0, "linestyle": ":"}


def level_colour(level: int):
    """The fill colour of a level: one fixed colour per level L1..L7 (viridis, fine = dark)."""
    span = HIGHEST_LEVEL - LOWEST_LEVEL
    return colormaps["viridis"](0.1 + 0.85 * (level - LOWEST_LEVEL) / span)


def _node_patch(node: Node):
    style = DEAD_EDGE if node.dead else OUTPUT_EDGE if node.output_level is not None else PLAIN_EDGE
    common = {"facecolor": level_colour(node.level), "hatch": "///" if node.is_stem else None,
              "alpha": DEAD_ALPHA if node.dead else None, **style}
    if node.block_fn == "residual":
        return Circle((node.feature, node.level), NODE_SIZE / 2, **common)
    half = NODE_SIZE / 2
    return Rectangle((node.feature - half, node.level - half), NODE_SIZE, NODE_SIZE, **common)


def _draw_nodes(ax: Axes, layout: Layout, id_prefix: str) -> dict[int, object]:
    patches = {}
    for node in layout.nodes:
        patch = _node_patch(node)
        patch.set_gid(f"{id_prefix}block-{node.feature}")
        ax.add_patch(patch)
        patches[node.feature] = patch
        text_colour = "white" if node.level <= 4 else "black"
        ax.text(node.feature, node.level, str(node.feature), ha="center", va="center", fontsize=7,
                color=text_colour, zorder=5)
        if node.output_level is not None:
            ax.text(node.feature, node.level + 0.42, f"P{node.output_level}", ha="center", va="bottom",
                    fontsize=9, fontweight="bold", zorder=5)
    return patches


def _clamped(rad: float, x0: int, y0: int, x1: int, y1: int, bounds: tuple[float, float]) -> float:
    """`rad` reduced so the arc's apex stays within the level `bounds` (arc3's apex lies at
    mid_y - rad * dx / 2 for a left-to-right arrow)."""
    mid_y, half_dx = (y0 + y1) / 2, (x1 - x0) / 2
    low, high = bounds
    return min(rad, (mid_y - low) / half_dx) if rad > 0 else max(rad, (mid_y - high) / half_dx)


def _curvature(x0: int, y0: int, x1: int, y1: int, bounds: tuple[float, float]) -> float:
    """Arc of an arrow: straight between neighbours; longer ones bow more the further they
    reach (below for flat or falling arrows, above for rising ones), bent the other way when
    the frame leaves too little room, so every arrow stays inside the drawing."""
    span = x1 - x0
    if span <= 1:
        return 0.0
    bend = min(0.12 + 0.03 * span, 0.4)
    rad = bend if y1 <= y0 else -bend
    clamped = _clamped(rad, x0, y0, x1, y1, bounds)
    if abs(clamped) >= 0.5 * bend:
        return clamped
    return _clamped(-rad, x0, y0, x1, y1, bounds)


def _draw_edges(ax: Axes, layout: Layout, patches: dict[int, object], id_prefix: str) -> None:
    levels = {n.feature: n.level for n in layout.nodes}
    dead = set(layout.dead)
    bounds = (layout.levels[0] - ARC_ROOM, layout.levels[-1] + ARC_ROOM)
    for edge in layout.edges:
        start, end = (edge.source, levels[edge.source]), (edge.target, levels[edge.target])
        style = dict(EDGE_STYLES[edge.kind])
        if edge.target in dead:
            style["alpha"] = DEAD_ALPHA
        arrow = FancyArrowPatch(
            start, end, patchA=patches[edge.source], patchB=patches[edge.target], arrowstyle="-|>",
            mutation_scale=9, connectionstyle=f"arc3,rad={_curvature(*start, *end, bounds):.4f}", zorder=1,
            **style,
        )
        arrow.set_gid(f"{id_prefix}{'edge' if edge.kind == PARENT else 'merge'}-{edge.source}-{edge.target}")
        ax.add_patch(arrow)


def _frame(ax: Axes, layout: Layout, num_features: int) -> None:
    levels = layout.levels
    ax.set_xlim(-0.8, num_features - 0.2)
    ax.set_ylim(levels[0] - 0.8, levels[-1] + 0.9)
    ax.set_aspect("equal")
    ax.set_yticks(levels, [f"L{lv}" for lv in levels])
    ax.set_xticks(range(num_features))
    ax.tick_params(labelsize=8)
    ax.set_ylabel("level (stride $2^L$)")
    ax.set_xlabel("build order (feature index; hatched = stem)")
    ax.grid(axis="y", color="#dddddd", linewidth=0.6, zorder=0)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    merges = layout.count(MERGE)
    blocks = sum(1 for n in layout.nodes if not n.is_stem)
    stem = len(layout.nodes) - blocks
    dead = f", {len(layout.dead)} dead (feed no output, not built)" if layout.dead else ""
    ax.set_title(f"{layout.name}: {stem} stem + {blocks} blocks, {merges} implicit output merge(s){dead}",
                 fontsize=10)


def draw_layout(ax: Axes, layout: Layout, num_features: int | None = None, id_prefix: str = "") -> None:
    """Draw one layout onto `ax`.

    Args:
        ax: the axes to draw on.
        layout: what to draw.
        num_features: x range to leave room for (default: the layout's own node count).
        id_prefix: put before every SVG id, so several drawings can share one SVG or HTML page.
    """
    patches = _draw_nodes(ax, layout, id_prefix)
    _draw_edges(ax, layout, patches, id_prefix)
    _frame(ax, layout, num_features or len(layout.nodes))


def _legend_handles(levels: Sequence[int]) -> list:
    handles = [Patch(facecolor=level_colour(lv), edgecolor="#333333", label=f"L{lv}") for lv in levels]
    marker = {"color": "white", "markerfacecolor": "#bbbbbb", "markeredgecolor": "#333333", "markersize": 9}
    handles += [
        Line2D([], [], marker="s", label="bottleneck", **marker),
        Line2D([], [], marker="o", label="residual", **marker),
        Patch(facecolor="white", label="output (P-level)", **OUTPUT_EDGE),
        Line2D([], [], label="parent (resampled)", **PARENT_STYLE),
        Line2D([], [], label="implicit merge", **MERGE_STYLE),
        Patch(facecolor="#bbbbbb", alpha=DEAD_ALPHA, label="dead: feeds no output", **DEAD_EDGE),
    ]
    return handles


def drawing_figure(specs: Sequence[ArchSpec], id_prefix: str = "") -> Figure:
    """A figure with one drawing per spec, stacked top to bottom, and one shared legend.

    SVG ids are `<id_prefix>block-<f>` etc. for one spec; with several, drawing i (top = 0)
    uses `<id_prefix>s<i>.block-<f>` so that ids stay unique.
    """
    layouts = [layout_spec(spec) for spec in specs]
    width = max(len(lay.nodes) for lay in layouts)
    levels = sorted({lv for lay in layouts for lv in lay.levels})
    rows = [lay.levels[-1] - lay.levels[0] + 2.6 for lay in layouts]
    fig = new_figure(1.6 + INCH_PER_FEATURE * width, 0.9 + INCH_PER_LEVEL * sum(rows))
    axes = fig.subplots(len(layouts), 1, squeeze=False, height_ratios=rows)[:, 0]
    for i, (ax, lay) in enumerate(zip(axes, layouts)):
        draw_layout(ax, lay, width, id_prefix + (f"s{i}." if len(layouts) > 1 else ""))
    fig.legend(handles=_legend_handles(levels), loc="outside lower center", ncol=len(levels) + 6, fontsize=8,
               frameon=False)
    return fig


def save_drawing(specs: Sequence[ArchSpec], path: str) -> str:
    """Draw `specs` (one or two) into an .svg or .png file; returns the path.

    Raises:
        UserInputError: unknown extension or unwritable path.
    """
    return save_figure(drawing_figure(specs), path)


def drawing_svg(spec: ArchSpec, id_prefix: str = "") -> str:
    """The SVG text of one spec's drawing (for inline use in HTML reports; see `drawing_figure`)."""
    return svg_text(drawing_figure([spec], id_prefix))
