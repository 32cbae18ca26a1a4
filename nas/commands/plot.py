"""`nas plot RUN [-o DIR]`: reward-per-trial and AP-vs-FLOPs figures of a run, PNG and SVG."""

from __future__ import annotations

import os

from nas.inspect.figures import save_png_and_svg
from nas.inspect.plots import pareto_figure, reward_figure
from nas.inspect.runs import load_run
from nas.run_folder import RunFolder

FIGURES = {"reward": reward_figure, "ap_vs_flops": pareto_figure}  # file stem -> figure builder


def run(args) -> int:
    snapshot = load_run(args.run)
    folder = args.output or os.path.join(args.run, "plots")
    for stem, build in FIGURES.items():
        for path in save_png_and_svg(build(snapshot), folder, stem):
            print(f"wrote {path}")
    return 0


def register(verbs) -> None:
    parser = verbs.add_parser(
        "plot",
        help="reward and AP-vs-FLOPs figures of a search run (PNG and SVG)",
        description="Write two figures of a run, each as PNG and SVG: reward.* (reward of every "
        "trial in feedback order, failed trials marked, running best and a 5-trial moving "
        "average) and ap_vs_flops.* (held-out AP in % against G multiply-adds, the Pareto front "
        "marked, and the seed baseline when the run recorded one).\n\n"
        "example: nas plot results/runs/demo -o figures/",
    )
    parser.add_argument("run", metavar="RUN", help=f"a run folder (holding {RunFolder.STORE_FILE})")
    parser.add_argument("-o", "--output", metavar="DIR", help="output folder (default RUN/plots)")
    parser.set_defaults(func=run)
