"""TF Model Garden form of a spec: the `SPINENET_BLOCK_SPECS` list of
`(level, 'block_fn', (in0, in1), is_output)` tuples, written and read exactly as there.

Two forms of that list exist. tensorflow/tpu's has SpineNet-49's 15 entries; Model Garden's
current `official/vision/modeling/backbones/spinenet.py` adds a 16th, `(2, 'bottleneck', (2, 13),
True)`, an L2 output that its builder uses only when min_level is 2 (at min_level 3 it logs the
level as out of range and the block is never built). Both are read; the spec keeps such an entry as
an output outside [min_level, max_level] (see `reachability.unused_output_note`). Writing gives
the entries the spec has, so the L2 entry appears only for a spec that holds one, and a comment
names the form written.

Reading uses `ast.literal_eval` on the list only, so nothing in a file is ever executed.
That form has no stem, min/max level or name: it always means SpineNet's two-L2 stem and
outputs L3..L7, so a spec with another stem cannot be expressed and is refused.

A scaling is written as one new key of Model Garden's `SCALING_MAP` (`SCALING_MAP['49'] = {...}`),
so pasting it below that map adds the entry and keeps all of Model Garden's keys.
"""

from __future__ import annotations

import ast

from search_space.errors import SpecError
from search_space.reachability import unused_outputs
from search_space.scaling import HEAD_NOTES, Scaling
from search_space.spec import SPINENET_STEM, ArchSpec, BlockSpec
from search_space.validation import check_block_fields

TF_LIST_NAME = "SPINENET_BLOCK_SPECS"


def tf_block_tuples(spec: ArchSpec) -> list[tuple]:
    """The spec's blocks as TF tuples.

    Raises:
        SpecError: the spec's stem is not SpineNet's, or its connections are damaged (an
            ablation); the TF form can express neither.
    """
    if spec.stem != SPINENET_STEM:
        raise SpecError(
            f"spec '{spec.name}' has stem {[list(s) for s in spec.stem]}; TF Model Garden's "
            "SpineNet always builds two L2 bottleneck stem blocks, so export it as JSON instead"
        )
    if spec.damage:
        raise SpecError(
            f"spec '{spec.name}' has damaged connections ({spec.damage}); TF Model Garden's SpineNet "
            "merges two parents per block, so export it as JSON instead"
        )
    return [(b.level, b.block_fn, tuple(b.inputs), b.is_output) for b in spec.blocks]


def list_form_comment(spec: ArchSpec) -> str:
    """Which of the two list forms a spec's entries make (the export's comment line)."""
    extra = unused_outputs(spec)
    if not extra:
        return (f"# form: {len(spec.blocks)} entries, no output outside L{spec.min_level}..L{spec.max_level} "
                "(tensorflow/tpu's form; Model Garden builds it the same)")
    levels = ", ".join(f"L{level}" for level in sorted(extra))
    return (f"# form: Model Garden's, {len(spec.blocks)} entries with an extra {levels} output entry, "
            f"used only when min_level/max_level include it")


def scaling_lines(scaling: Scaling, model: str) -> list[str]:
    """The scaling as one added key of Model Garden's SCALING_MAP (the map itself is kept)."""
    lines = ["", f"# adds key {model!r} to Model Garden's SCALING_MAP; its other keys stay as they are"]
    note = HEAD_NOTES.get(model)
    if note:
        lines.append(f"# {note}")
    return lines + [f"SCALING_MAP[{model!r}] = {scaling.tf_scaling_entry()!r}"]


def to_tf_text(spec: ArchSpec, scaling: Scaling | None = None, model: str | None = None) -> str:
    """Python source of `SPINENET_BLOCK_SPECS = [...]` (and a SCALING_MAP key when given)."""
    lines = [f"# {spec.name}: paste into TF Model Garden's spinenet.py", list_form_comment(spec), f"{TF_LIST_NAME} = ["]
    lines += [f"    {entry!r}," for entry in tf_block_tuples(spec)]
    lines.append("]")
    if scaling is not None:
        lines += scaling_lines(scaling, model)
    return "\n".join(lines) + "\n"


def _too_deep(where: str) -> SpecError:
    return SpecError(f"{where} is nested too deeply to be a block-spec list; give a spec file")


def _list_node(text: str, where: str) -> ast.AST:
    try:
        tree = ast.parse(text, mode="exec")
    except (RecursionError, MemoryError):
        raise _too_deep(where) from None
    except (SyntaxError, ValueError) as err:
        if "too many nested" in str(err):
            raise _too_deep(where) from None
        raise SpecError(f"{where} is neither spec JSON nor a Python tuple list; check its syntax") from None
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == TF_LIST_NAME for t in node.targets
        ):
            return node.value
    if len(tree.body) == 1 and isinstance(tree.body[0], ast.Expr):
        return tree.body[0].value
    raise SpecError(f"{where} holds no '{TF_LIST_NAME} = [...]' assignment or bare tuple list")


def from_tf_text(text: str, name: str = "spec", where: str = "TF spec") -> ArchSpec:
    """Parse a TF block-spec list (bare, or as `SPINENET_BLOCK_SPECS = [...]`) into a spec."""
    node = _list_node(text, where)  # outside the try: its SpecError (a ValueError) must pass through
    try:
        value = ast.literal_eval(node)
    except (RecursionError, MemoryError):
        raise _too_deep(where) from None
    except (ValueError, TypeError, SyntaxError):
        raise SpecError(f"{where} contains something other than literals; only tuples of literals are read") from None
    return from_tf_tuples(value, name, where)


def from_tf_tuples(entries, name: str = "spec", where: str = "TF spec") -> ArchSpec:
    """A spec (SpineNet stem, L3..L7) from TF tuples, checking each entry's shape."""
    if not isinstance(entries, (list, tuple)):
        raise SpecError(f"{where} is a {type(entries).__name__}; expected a list of block tuples")
    blocks = []
    for k, entry in enumerate(entries):
        if not isinstance(entry, (list, tuple)) or len(entry) != 4:
            raise SpecError(
                f"{where} entry {k} is {entry!r}; each entry is (level, 'block_fn', (in0, in1), is_output)"
            )
        level, block_fn, inputs, is_output = entry
        check_block_fields(level, block_fn, inputs, is_output, where=f"block {k}")
        blocks.append(BlockSpec(level, block_fn, tuple(inputs), is_output))
    return ArchSpec(name=name, blocks=tuple(blocks))
