"""`nas compare RUN [RUN ...] [-o FILE.svg|.png] [--json]`: several runs side by side."""

from __future__ import annotations

import json

from nas.inspect.figures import check_output_file, figure_format, save_figure
from nas.inspect.leaderboard import percent, summary_data, text_table
from nas.inspect.plots import compare_figure
from nas.inspect.runs import load_run
from nas.run_folder import RunFolder

COLUMNS = ("run", "controller", "trials_done", "failed", "best_ap", "best_trial")


def compare_rows(snapshots) -> list[dict]:
    """One summary row per run (COLUMNS), in the order given."""
    return [{k: summary_data(s)[k] for k in COLUMNS} for s in snapshots]


def _text(rows: list[dict]) -> str:
    cells = [["run", "controller", "trials", "failed", "best AP", "best trial"]] + [
        [r["run"], r["controller"], str(r["trials_done"]), str(r["failed"]),
         "-" if r["best_ap"] is None else percent(r["best_ap"]), str(r["best_trial"] or "-")]
        for r in rows
    ]
    return text_table(cells, left_columns=len(cells[0]))


def run(args) -> int:
    if args.output:
        figure_format(check_output_file(args.output))  # a bad path fails before any output
    snapshots = [load_run(path) for path in args.runs]
    rows = compare_rows(snapshots)
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        print(_text(rows), end="")
    if args.output:
        print(f"wrote {save_figure(compare_figure(snapshots), args.output)}")
    return 0


def register(verbs) -> None:
    parser = verbs.add_parser(
        "compare",
        help="compare search runs (controller, trials, best AP, best-so-far curves)",
        description="Print one row per run (controller, trials done, failed, best AP in %, best "
        "trial) and, with -o, draw every run's best-so-far reward against trials done on one "
        "plot: the way to compare controllers (ppo vs evolution vs random) or search spaces.\n\n"
        "example: nas compare results/runs/ppo16 results/runs/evo16 results/runs/rnd16 -o curves.svg",
    )
    parser.add_argument("runs", metavar="RUN", nargs="+", help=f"run folders (each holding {RunFolder.STORE_FILE})")
    parser.add_argument("-o", "--output", metavar="FILE", help="write the best-so-far curves (.svg or .png)")
    parser.add_argument("--json", action="store_true", help="print the rows as JSON")
    parser.set_defaults(func=run)
