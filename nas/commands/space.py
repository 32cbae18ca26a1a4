"""`nas space [--space SEED] [--ordering O] [--window W] [--adjustments on|off] [--json]`: print
the search space's options, its decision steps and its sizes (the paper's counts and the exact
number of decision lists, each labelled). Also holds the space arguments `nas sample` shares."""

from __future__ import annotations

import argparse
import json
from collections import Counter

from search_space.orderings import ORDERINGS
from search_space.seeds import seed_names
from search_space.sizes import LABELS, space_sizes
from search_space.space import SearchSpace


def add_space_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the options that pick a search space to a verb's parser."""
    parser.add_argument("--space", choices=seed_names(), default="resnet50", help="seed allocation (default resnet50)")
    parser.add_argument("--ordering", choices=ORDERINGS, help="fix the scale permutation (Table 8 ablation)")
    parser.add_argument("--window", type=int, help="parent window of intermediate blocks (default 5)")
    parser.add_argument(
        "--adjustments", choices=("on", "off"), help="search level offsets and block types (seed default)"
    )


def add_space_verb(verbs, name: str, help_text: str, description: str) -> argparse.ArgumentParser:
    """A verb's parser that keeps the description's line breaks and takes the space options."""
    parser = verbs.add_parser(
        name, formatter_class=argparse.RawDescriptionHelpFormatter, help=help_text, description=description
    )
    add_space_arguments(parser)
    return parser


def space_from_args(args: argparse.Namespace) -> SearchSpace:
    """The search space named by the parsed space arguments.

    Raises:
        SpecError: a bad override (e.g. a window below 2).
    """
    overrides: dict = {}
    if args.ordering:
        overrides["ordering"] = args.ordering
    if args.window is not None:
        overrides["window"] = args.window
    if args.adjustments:
        overrides["adjustments"] = args.adjustments == "on"
    return SearchSpace.from_seed(args.space, **overrides)


def describe(space: SearchSpace) -> dict:
    """Options, step counts and sizes of a space as JSON-ready data (sizes as exact ints)."""
    sizes = space_sizes(space).to_dict()
    return {
        "options": space.options.to_dict(),
        "steps": {"total": len(space.steps), **Counter(step.kind for step in space.steps)},
        "blocks": {"stem": space.num_stem, "intermediate": space.num_intermediate, "output": space.num_output},
        "sizes": {key: {"value": sizes[key], "label": label} for key, label in LABELS.items()},
    }


def render_text(data: dict) -> str:
    """Human-readable form of `describe`'s data."""
    lines = [f"search space '{data['options']['name']}'", "options:"]
    lines += [f"  {key:20} {json.dumps(value)}" for key, value in data["options"].items()]
    blocks = data["blocks"]
    lines.append(f"blocks: {blocks['stem']} stem + {blocks['intermediate']} intermediate + {blocks['output']} output")
    lines.append("decisions: " + ", ".join(f"{n} {kind}" for kind, n in data["steps"].items()))
    lines.append("sizes (exact integers):")
    for entry in data["sizes"].values():
        lines.append(f"  {entry['label']:62} {entry['value']:>44,}  (~{entry['value']:.3e})")
    return "\n".join(lines) + "\n"


def run(args) -> int:
    data = describe(space_from_args(args))
    print(json.dumps(data, indent=2) if args.json else render_text(data), end="\n" if args.json else "")
    return 0


def register(verbs) -> None:
    parser = add_space_verb(
        verbs,
        "space",
        "print a search space's options and sizes",
        "Print the options of a search space, its decision steps and its sizes:\n"
        "the paper's counts ((N-5)!*5! orderings, connections with and without the window rule,\n"
        "4^(N-5) level adjustments, 2^N block types) and, separately, the exact numbers of\n"
        "distinct decision lists and distinct specs of this implementation.\n\n"
        "example: nas space --space r35-sp18 --json",
    )
    parser.add_argument("--json", action="store_true", help="print JSON (sizes as exact integers)")
    parser.set_defaults(func=run)
