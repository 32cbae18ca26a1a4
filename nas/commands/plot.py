"""`nas plot RUN [-o DIR]`: reward-per-trial and reward-metric-vs-FLOPs figures of a run, PNG and
SVG; the second is named by the run's reward metric (`ap_vs_flops` for detection, `top1_vs_flops`
for classification)."""

from __future__ import annotations

import argparse
import os

from nas.inspect.figures import save_png_and_svg
from nas.inspect.plots import pareto_figure, reward_figure
from nas.inspect.runs import RunSnapshot, load_run
from nas.run_folder import RunFolder


def figures(snapshot: RunSnapshot) -> dict:
    """File stem -> figure builder of a run's figures."""
    return {"reward": reward_figure, f"{snapshot.task.reward_metric}_vs_flops": pareto_figure}


def run(args) -> int:
    snapshot = load_run(args.run)
    folder = args.output or os.path.join(args.run, "plots")
    for stem, build in figures(snapshot).items():
        for path in save_png_and_svg(build(snapshot), folder, stem):
            print(f"wrote {path}")
    return 0


def register(verbs) -> None:
    parser = verbs.add_parser(
        "plot",
        help="reward and reward-metric-vs-FLOPs figures of a search run (PNG and SVG)",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Write two figures of a run, each as PNG and SVG: reward.* (reward of every trial in feedback\n"
        "order, failed trials marked, running best and a 5-trial moving average) and METRIC_vs_flops.*\n"
        "(the held-out reward metric in % against G multiply-adds, the Pareto front marked, and the seed\n"
        "baseline when the run recorded one; METRIC is the run's reward metric: ap_vs_flops.* for\n"
        "detection, top1_vs_flops.* for classification).\n\n"
        "example: nas plot results/runs/demo -o figures/",
    )
    parser.add_argument("run", metavar="RUN", help=f"a run folder (holding {RunFolder.STORE_FILE})")
    parser.add_argument("-o", "--output", metavar="DIR", help="output folder (default RUN/plots)")
    parser.set_defaults(func=run)
