"""`nas draw SOURCE [-o FILE.svg|.png] [--compare OTHER]`: draw an architecture SpineNet-style."""

from __future__ import annotations

import re

from nas.inspect.draw import save_drawing
from nas.inspect.figures import check_output_file, figure_format
from nas.sources import resolve_source


def default_path(name: str) -> str:
    """`<name>.svg` with every character outside [A-Za-z0-9._-] replaced by '_'."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", name) + ".svg"


def run(args) -> int:
    if args.output:
        check_output_file(args.output)
        figure_format(args.output)
    specs = [resolve_source(args.source).spec]
    if args.compare:
        specs.insert(0, resolve_source(args.compare).spec)
    path = save_drawing(specs, args.output or default_path(specs[-1].name))
    print(f"wrote {path}")
    return 0


def register(verbs) -> None:
    parser = verbs.add_parser(
        "draw",
        help="draw an architecture (blocks by build order and level) as SVG or PNG",
        description="Draw a spec like the SpineNet paper's figures: blocks left to right in build "
        "order (stem hatched), placed and coloured by level, squares for bottleneck and circles "
        "for residual blocks, output blocks outlined and marked P3..P7, solid arrows for both "
        "parents and dashed red arrows for the implicit output-merge connections. With --compare "
        "OTHER, OTHER is drawn above SOURCE (e.g. the seed above the best trial).\n\n"
        "example: nas draw results/runs/demo:best --compare r50-sd -o best_vs_seed.png",
    )
    parser.add_argument("source", metavar="SOURCE", help="built-in name, spec file, RUN:TRIAL or RUN:best")
    parser.add_argument("-o", "--output", metavar="FILE", help="output .svg or .png (default ./<name>.svg)")
    parser.add_argument("--compare", metavar="OTHER", help="a second SOURCE drawn above the first")
    parser.set_defaults(func=run)
