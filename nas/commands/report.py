"""`nas report RUN [-o report.html] [--top K]`: one self-contained HTML report of a run, labelled by
its task."""

from __future__ import annotations

import argparse
import os

from nas.inspect.figures import check_output_file
from nas.inspect.report import report_html
from nas.inspect.runs import load_run
from nas.output import write_text
from nas.run_folder import RunFolder
from search_space.errors import UserInputError


def run(args) -> int:
    if args.top < 0:
        raise UserInputError(f"--top {args.top}: give the number of architectures to draw (0 or more)")
    snapshot = load_run(args.run)
    path = check_output_file(args.output or os.path.join(args.run, "report.html"))
    write_text(path, report_html(snapshot, top=args.top))
    print(f"wrote {path}")
    return 0


def register(verbs) -> None:
    parser = verbs.add_parser(
        "report",
        help="one self-contained HTML report of a search run",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Write one HTML file with the run summary, the leaderboard, the reward and metric-vs-FLOPs\n"
        "figures (the run's reward metric, labelled by its task: AP, top-1) and drawings of the top\n"
        "architectures, all inline (SVG, no scripts or external files): it opens in any browser offline\n"
        "and can be mailed.\n\n"
        "example: nas report results/runs/demo -o demo_report.html --top 3",
    )
    parser.add_argument("run", metavar="RUN", help=f"a run folder (holding {RunFolder.STORE_FILE})")
    parser.add_argument("-o", "--output", metavar="FILE", help="output HTML file (default RUN/report.html)")
    parser.add_argument("--top", type=int, default=3, metavar="K", help="architectures to draw (default 3)")
    parser.set_defaults(func=run)
