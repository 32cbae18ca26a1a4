"""Run summary and leaderboard as plain data (for `--json` and HTML) and as a text table, labelled
by the run's task.

`summary_data(run)` and `leaderboard_rows(run, top)` are the one source of both the JSON
(`nas show --json`) and the printed/HTML tables. Metrics stay as stored (fractions in [0, 1],
multiply-adds, parameters); a leaderboard row carries every metric of the run's task under its
name (`nas/run_task.py` `RunTask`, values from `store_schema.row_metrics`). `leaderboard_table` is
the one formatter of a leaderboard for people (metrics in percent with one decimal, `percent`;
GMACs; millions), for `nas show` (`leaderboard_columns(task)`) and for the report that closes a search
(`closing_columns(task)`, which adds the reward). Which metrics people's outputs show is decided
here once: a leaderboard shows `shown_metrics(task)`, the short outputs (the closing report, `nas
train`'s epoch lines) `headline_metrics(task)`; detection keeps the columns it had before tasks
(`COLUMNS`, `CLOSING_COLUMNS`), instance shows mask AP before box AP ("mask AP", "box AP"), another
task shows all its metrics, labelled by the task ("top-1").
"""

from __future__ import annotations

from nas.inspect.runs import RunSnapshot
from nas.run_task import RunTask
from nas.store_schema import row_metrics
from search_space.errors import UserInputError

BEFORE_PRUNING_MARK = "*"  # beside FLOPs and params a store kept from before dead blocks were pruned
BEFORE_PRUNING_NOTE = (f"{BEFORE_PRUNING_MARK} counted before dead blocks were pruned (stored by an earlier "
                       "version): includes blocks that feed no output, which are no longer built")
DETECTION = RunTask.of_config(None)  # the task of a config stored before tasks: detection, reward AP
# detection's metrics in people's outputs, as before tasks existed; another task shows all its metrics
INSTANCE = "instance"  # its twelve metrics would crowd a table: mask AP first, then box AP
SHOWN_METRICS = {  # leaderboards (AP75 left out)
    DETECTION.name: ("ap", "ap50", "aps", "apm", "apl"),
    INSTANCE: ("mask_ap", "mask_ap50", "mask_aps", "mask_apm", "mask_apl", "ap", "ap50"),
}
HEADLINE_METRICS = {DETECTION.name: ("ap", "ap50"), INSTANCE: ("mask_ap", "ap")}  # the closing report, `nas train`'s epoch lines


def percent(value: float) -> str:
    """A metric in [0, 1] (AP, top-1) as papers print it: percent with one decimal."""
    return f"{100 * value:.1f}"


def shown_metrics(task: RunTask) -> tuple[str, ...]:
    """The metrics a leaderboard shows, in order."""
    return SHOWN_METRICS.get(task.name, task.metrics.names)


def headline_metrics(task: RunTask) -> tuple[str, ...]:
    """The metrics the short outputs show (the closing report, `nas train`'s epoch lines)."""
    return HEADLINE_METRICS.get(task.name, task.metrics.names)


def row_keys(task: RunTask) -> tuple[str, ...]:
    """The keys of a leaderboard row: rank, trial, status, reward, every metric of the task, cost."""
    return ("rank", "trial_id", "status", "reward", *task.metrics.names, "flops", "params", "train_seconds",
            "flops_before_pruning")


# (header, row key, formatter) of the printed leaderboard's columns beside the metrics
ID_COLUMNS = (("rank", "rank", str), ("trial", "trial_id", str), ("status", "status", str))
COST_COLUMNS = (
    ("GMACs", "flops", lambda v: f"{v / 1e9:.3f}"),
    ("params(M)", "params", lambda v: f"{v / 1e6:.3f}"),
    ("seconds", "train_seconds", lambda v: f"{v:.0f}"),
)
REWARD_COLUMN = ("reward", "reward", lambda v: f"{v:.4f}")


def metric_columns(task: RunTask, names: tuple[str, ...]) -> tuple:
    """Columns of metrics `names`, headed by the task's labels, in percent."""
    return tuple((task.metrics.label(name), name, percent) for name in names)


def leaderboard_columns(task: RunTask) -> tuple:
    """The columns of `nas show`'s leaderboard (and the HTML report's) for a run of `task`."""
    return (*ID_COLUMNS, *metric_columns(task, shown_metrics(task)), *COST_COLUMNS)


def closing_columns(task: RunTask) -> tuple:
    """The columns of the report that closes a search: the reward the controller saw, the headline
    metrics, cost."""
    return (*ID_COLUMNS, REWARD_COLUMN, *metric_columns(task, headline_metrics(task)), *COST_COLUMNS)


COLUMNS = leaderboard_columns(DETECTION)
CLOSING_COLUMNS = closing_columns(DETECTION)


def space_size(config: dict) -> dict | None:
    """Exact sizes of the run's search space from its stored config (None if not recorded)."""
    space = config.get("space")
    if not isinstance(space, dict) or "seed" not in space:
        return None
    from nas.config import SpaceSettings
    from search_space.sizes import space_sizes

    try:
        return space_sizes(SpaceSettings(**space).build()).to_dict()
    except (UserInputError, TypeError):
        return None


def summary_data(run: RunSnapshot) -> dict:
    """The run summary: name, controller, task, trial counts, wall time, best trial with its reward
    and its value of the reward metric (`best_metric`, named by `reward_metric`; `best_ap`, its AP,
    stays for detection's readers), space size, baseline."""
    s = run.summary
    return {
        "run": run.name,
        "path": run.path,
        "controller": run.controller,
        "task": run.task.name,
        "trials_done": s["trials"],
        "trials_requested": s["requested"],
        "failed": s["failed"],
        "statuses": s["statuses"],
        "wall_seconds": run.wall_seconds(),
        "best_trial": s["best_trial"],
        "best_reward": s["best_reward"],
        "best_ap": s["best_ap"],
        "reward_metric": s["reward_metric"],
        "best_metric": s["best_metric"],
        "search_space": space_size(s["config"]),
        "baseline": run.baseline,
        "predictor": predictor_data(s),
    }


def predictor_data(summary: dict) -> dict | None:
    """The run's predictor screen (its config and how many proposals it set aside), or None."""
    predictor = (summary.get("config") or {}).get("predictor") or {}
    if predictor.get("kind") is None:
        return None
    return {**predictor, "screened": summary.get("screened", 0)}


def leaderboard_rows(run: RunSnapshot, top: int | None = 10) -> list[dict]:
    """The best `top` trials (all for None), best first, with the `row_keys` of the run's task.

    Raises:
        UserInputError: `top` is not positive.
    """
    if top is not None and top < 1:
        raise UserInputError(f"--top {top}: give a positive number of trials")
    return numbered(run.ranked(top), run.task)


def numbered(ranked: list[dict], task: RunTask) -> list[dict]:
    """Ranked trial rows (best first) as leaderboard rows: their rank, and the `row_keys(task)`
    columns with the task's metrics read from each row (`row_metrics`)."""
    return [_leaderboard_row(rank, row, task) for rank, row in enumerate(ranked, 1)]


def _leaderboard_row(rank: int, row: dict, task: RunTask) -> dict:
    values = {**row, **row_metrics(row), "rank": rank}
    return {k: values.get(k) for k in row_keys(task)}


def format_cell(row: dict, key: str, fmt) -> str:
    """One table cell: '-' for a missing value."""
    value = row.get(key)
    return "-" if value is None else fmt(value)


def text_table(cells: list[list[str]], left_columns: int) -> str:
    """Rows of cells (the first row is the header) as aligned text: the first `left_columns`
    columns left-aligned, the rest right-aligned, two spaces between columns."""
    widths = [max(len(line[i]) for line in cells) for i in range(len(cells[0]))]
    lines = ["  ".join(c.ljust(w) if i < left_columns else c.rjust(w) for i, (c, w) in enumerate(zip(line, widths)))
             for line in cells]
    return "\n".join(line.rstrip() for line in lines) + "\n"


def row_cells(row: dict, columns: tuple = COLUMNS) -> list[str]:
    """The formatted cells of one leaderboard row; counts from before pruning carry the mark."""
    mark = BEFORE_PRUNING_MARK if row.get("flops_before_pruning") else ""
    return [format_cell(row, k, f) + (mark if k in ("flops", "params") else "") for _, k, f in columns]


def pruning_footnote(rows: list[dict]) -> str:
    """The footnote of the mark, or "" when no row carries it."""
    return BEFORE_PRUNING_NOTE if any(r.get("flops_before_pruning") for r in rows) else ""


def leaderboard_table(rows: list[dict], columns: tuple = COLUMNS) -> str:
    """Leaderboard rows (`numbered`) as an aligned text table (metrics in %, FLOPs as GMACs, params in
    millions), with a footnote when some FLOPs were counted before dead blocks were pruned."""
    cells = [[h for h, _, _ in columns]] + [row_cells(r, columns) for r in rows]
    note = pruning_footnote(rows)
    return text_table(cells, left_columns=3) + (note + "\n" if note else "")


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    minutes, secs = divmod(round(seconds), 60)
    return f"{minutes // 60}h{minutes % 60:02d}m{secs:02d}s"


def predictor_line(predictor: dict) -> str:
    """One line on a run's predictor screen (`predictor_data`)."""
    return (f"predictor: {predictor['kind']} screen, best of {predictor['candidates']} proposals trained after "
            f"{predictor['warmup']} rows; {predictor['screened']} proposals screened out (not trained)")


def summary_lines(summary: dict, task: RunTask) -> list[str]:
    """The summary (`summary_data`) of a run of `task` as 'key: value' lines for people."""
    requested = summary["trials_requested"]
    best = "-" if summary["best_trial"] is None else (
        f"{percent(summary['best_metric'])} {task.reward_label} (trial {summary['best_trial']})"
        if summary["best_metric"] is not None
        else f"reward {summary['best_reward']:.4f} (trial {summary['best_trial']})")
    size = summary["search_space"]
    return [
        f"run: {summary['run']} ({summary['path']})",
        f"controller: {summary['controller']}",
        f"trials: {summary['trials_done']} done" + (f" of {requested}" if requested else "")
        + f", {summary['failed']} failed",
        *([predictor_line(summary["predictor"])] if summary.get("predictor") else []),
        f"wall time: {_duration(summary['wall_seconds'])}",
        f"best: {best}",
        "search space: " + ("-" if size is None else
                            f"{size['paper_total_window']:.3e} (paper count, window rule), "
                            f"{size['decision_lists']:.3e} decision lists"),
    ]
