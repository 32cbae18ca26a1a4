"""`nas show RUN [--top K] [--json]`: a run's summary and leaderboard, labelled by the run's task."""

from __future__ import annotations

import argparse
import json

from nas.commands.sample import positive_count
from nas.inspect.leaderboard import (
    leaderboard_columns,
    leaderboard_rows,
    leaderboard_table,
    summary_data,
    summary_lines,
)
from nas.inspect.runs import load_run
from nas.run_folder import RunFolder


def run(args) -> int:
    snapshot = load_run(args.run)
    summary, rows = summary_data(snapshot), leaderboard_rows(snapshot, args.top)
    if args.json:
        print(json.dumps({"summary": summary, "leaderboard": rows}, indent=2))
        return 0
    print("\n".join(summary_lines(summary, snapshot.task)))
    print()
    print(leaderboard_table(rows, leaderboard_columns(snapshot.task)), end="")
    return 0


def register(verbs) -> None:
    parser = verbs.add_parser(
        "show",
        help="summary and leaderboard of a search run",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Print a run's summary (controller, trials done/failed, wall time, best value of the reward\n"
        "metric, search-space size) and its leaderboard (rank, trial, the task's metrics in %: AP, AP50,\n"
        "APs/APm/APl for detection, top-1, top-5 for classification; FLOPs as GMACs (multiply-adds),\n"
        "params, training seconds), best first. Safe while the search is still running: it reads a\n"
        "consistent snapshot of the store. --json gives every metric as a fraction under its name (ap,\n"
        "top1, ...).\n\n"
        "example: nas show results/runs/demo --top 5",
    )
    parser.add_argument("run", metavar="RUN", help=f"a run folder (holding {RunFolder.STORE_FILE})")
    parser.add_argument("--top", type=positive_count, default=10, metavar="K", help="leaderboard rows (default 10)")
    parser.add_argument("--json", action="store_true", help="print {summary, leaderboard} as JSON for scripts")
    parser.set_defaults(func=run)
