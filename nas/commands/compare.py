"""`nas compare RUN [RUN ...] [-o FILE.svg|.png] [--json]`: several runs side by side.

The runs must share one reward metric (the same task and `task.reward_metric`): their best values
and best-so-far rewards are then comparable; runs of different reward metrics are refused with
one line. A row names its best value by the metric (`best_ap`, `best_top1`), the text header by
the task's label ("best AP", "best top-1").
"""

from __future__ import annotations

import argparse
import json

from nas.inspect.figures import check_output_file, figure_format, save_figure
from nas.inspect.leaderboard import percent, summary_data, text_table
from nas.inspect.plots import compare_figure
from nas.inspect.runs import RunSnapshot, load_run
from nas.run_folder import RunFolder
from nas.run_task import RunTask
from search_space.errors import UserInputError


def common_task(snapshots: list[RunSnapshot]) -> RunTask:
    """The task and reward metric all the runs share.

    Raises:
        UserInputError: the runs rank by different reward metrics (one line naming each group).
    """
    groups: dict[tuple[str, str], tuple[RunTask, list[str]]] = {}
    for snapshot in snapshots:
        task = snapshot.task
        groups.setdefault((task.name, task.reward_metric), (task, []))[1].append(snapshot.path)
    if len(groups) > 1:
        named = "; ".join(f"{task.name} {task.reward_label}: {', '.join(paths)}" for task, paths in groups.values())
        raise UserInputError(f"cannot compare runs with different reward metrics ({named}); "
                             "compare the runs of one reward metric at a time")
    return snapshots[0].task


def compare_rows(snapshots: list[RunSnapshot], task: RunTask) -> list[dict]:
    """One summary row per run, in the order given: run, controller, trials done, failed, the best
    value of the reward metric (`best_<metric>`) and the best trial."""
    rows = []
    for snapshot in snapshots:
        s = summary_data(snapshot)
        rows.append({"run": s["run"], "controller": s["controller"], "trials_done": s["trials_done"],
                     "failed": s["failed"], f"best_{task.reward_metric}": s["best_metric"],
                     "best_trial": s["best_trial"]})
    return rows


def _text(rows: list[dict], task: RunTask) -> str:
    best = f"best_{task.reward_metric}"
    cells = [["run", "controller", "trials", "failed", f"best {task.reward_label}", "best trial"]] + [
        [r["run"], r["controller"], str(r["trials_done"]), str(r["failed"]),
         "-" if r[best] is None else percent(r[best]), str(r["best_trial"] or "-")]
        for r in rows
    ]
    return text_table(cells, left_columns=len(cells[0]))


def run(args) -> int:
    if args.output:
        figure_format(check_output_file(args.output))  # a bad path fails before any output
    snapshots = [load_run(path) for path in args.runs]
    task = common_task(snapshots)
    rows = compare_rows(snapshots, task)
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        print(_text(rows, task), end="")
    if args.output:
        print(f"wrote {save_figure(compare_figure(snapshots), args.output)}")
    return 0


def register(verbs) -> None:
    parser = verbs.add_parser(
        "compare",
        help="compare search runs (controller, trials, best value, best-so-far curves)",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Print one row per run (controller, trials done, failed, best value of the reward metric in %,\n"
        "e.g. best AP or best top-1, best trial) and, with -o, draw every run's best-so-far reward\n"
        "against trials done on one plot: the way to compare controllers (ppo vs evolution vs random) or\n"
        "search spaces. The runs must share one reward metric.\n\n"
        "example: nas compare results/runs/ppo16 results/runs/evo16 results/runs/rnd16 -o curves.svg",
    )
    parser.add_argument("runs", metavar="RUN", nargs="+", help=f"run folders (each holding {RunFolder.STORE_FILE})")
    parser.add_argument("-o", "--output", metavar="FILE", help="write the best-so-far curves (.svg or .png)")
    parser.add_argument("--json", action="store_true", help="print the rows as JSON")
    parser.set_defaults(func=run)
