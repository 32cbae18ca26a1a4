"""`nas space [--space SEED] [--ordering O] [--window W] [--adjustments on|off]
[--dead-blocks allow|forbid] [--json]`: print the search space's options, its decision steps and
its sizes (the paper's counts and the exact number of decision lists, each labelled; sampled
estimates, labelled so, with --dead-blocks forbid). Also holds the space arguments `nas sample`
shares."""

from __future__ import annotations

import argparse
import json
from collections import Counter

from search_space.orderings import ORDERINGS
from search_space.seeds import seed_names
from search_space.sizes import size_labels, space_sizes
from search_space.space import SearchSpace
from search_space.space_options import DEAD_BLOCK_MODES


def add_space_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the options that pick a search space to a verb's parser."""
    parser.add_argument("--space", choices=seed_names(), default="resnet50", help="seed allocation (default resnet50)")
    parser.add_argument("--ordering", choices=ORDERINGS, help="fix the scale permutation (Table 8 ablation)")
    parser.add_argument("--window", type=int, help="parent window of intermediate blocks (default 5)")
    parser.add_argument(
        "--adjustments", choices=("on", "off"), help="search level offsets and block types (seed default)"
    )
    parser.add_argument(
        "--dead-blocks", choices=DEAD_BLOCK_MODES, default="allow",
        help="allow (the paper's space) or forbid blocks that feed no output (default allow)",
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
    return SearchSpace.from_seed(args.space, dead_blocks=args.dead_blocks, **overrides)


def describe(space: SearchSpace) -> dict:
    """Options, step counts and sizes of a space as JSON-ready data (sizes as exact ints)."""
    sizes = space_sizes(space)
    data = sizes.to_dict()
    described = {
        "options": space.options.to_dict(),
        "steps": {"total": len(space.steps), **Counter(step.kind for step in space.steps)},
        "blocks": {"stem": space.num_stem, "intermediate": space.num_intermediate, "output": space.num_output},
        "sizes": {key: {"value": data[key], "label": label} for key, label in size_labels(space).items()},
    }
    if sizes.dead_free_share:
        share, stderr, draws = sizes.dead_free_share
        described["dead_free_share"] = {"share": share, "stderr": stderr, "draws": draws}
    return described


def render_text(data: dict) -> str:
    """Human-readable form of `describe`'s data."""
    lines = [f"search space '{data['options']['name']}'", "options:"]
    lines += [f"  {key:20} {json.dumps(value)}" for key, value in data["options"].items()]
    blocks = data["blocks"]
    lines.append(f"blocks: {blocks['stem']} stem + {blocks['intermediate']} intermediate + {blocks['output']} output")
    lines.append("decisions: " + ", ".join(f"{n} {kind}" for kind, n in data["steps"].items()))
    lines.append("sizes (exact integers, except where labelled SAMPLED ESTIMATE):")
    for entry in data["sizes"].values():
        lines.append(f"  {entry['label']:62} {entry['value']:>44,}  (~{entry['value']:.3e})")
    share = data.get("dead_free_share")
    if share:
        lines.append(f"dead_free_share: {share['share']:.3f} +- {share['stderr']:.3f} of {share['draws']} uniform "
                     "decision lists of the same space with dead blocks allowed (estimates = exact count x share)")
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
        "distinct decision lists and distinct specs of this implementation (sampled estimates,\n"
        "labelled so, with --dead-blocks forbid).\n\n"
        "example: nas space --space r35-sp18 --json",
    )
    parser.add_argument("--json", action="store_true", help="print JSON (sizes as exact integers)")
    parser.set_defaults(func=run)
