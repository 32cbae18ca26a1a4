"""Run summary and leaderboard as plain data (for `--json` and HTML) and as a text table.

`summary_data(run)` and `leaderboard_rows(run, top)` are the one source of both the JSON
(`nas show --json`) and the printed/HTML tables. Metrics stay as stored (AP in [0, 1],
multiply-adds, parameters); `leaderboard_table` is the one formatter of a leaderboard for people
(AP in percent with one decimal, `percent`; GMACs; millions), for `nas show` (`COLUMNS`) and for
the report that closes a search (`CLOSING_COLUMNS`, which adds the reward).
"""

from __future__ import annotations

from nas.inspect.runs import RunSnapshot
from nas.store_schema import METRIC_COLUMNS as METRICS
from search_space.errors import UserInputError

ROW_KEYS = ("rank", "trial_id", "status", "reward", *METRICS, "flops", "params", "train_seconds", "flops_before_pruning")
BEFORE_PRUNING_MARK = "*"  # beside FLOPs and params a store kept from before dead blocks were pruned
BEFORE_PRUNING_NOTE = (f"{BEFORE_PRUNING_MARK} counted before dead blocks were pruned (stored by an earlier "
                       "version): includes blocks that feed no output, which are no longer built")


def percent(value: float) -> str:
    """An AP in [0, 1] as COCO papers print it: percent with one decimal."""
    return f"{100 * value:.1f}"


# (header, row key, formatter) of the printed leaderboard
COLUMNS = (
    ("rank", "rank", str),
    ("trial", "trial_id", str),
    ("status", "status", str),
    ("AP", "ap", percent),
    ("AP50", "ap50", percent),
    ("APs", "aps", percent),
    ("APm", "apm", percent),
    ("APl", "apl", percent),
    ("GMACs", "flops", lambda v: f"{v / 1e9:.3f}"),
    ("params(M)", "params", lambda v: f"{v / 1e6:.3f}"),
    ("seconds", "train_seconds", lambda v: f"{v:.0f}"),
)


REWARD_COLUMN = ("reward", "reward", lambda v: f"{v:.4f}")
_BY_HEADER = {column[0]: column for column in (*COLUMNS, REWARD_COLUMN)}
# the closing report of `nas search`: the reward the controller saw, the main APs, cost
CLOSING_COLUMNS = tuple(_BY_HEADER[h] for h in ("rank", "trial", "status", "reward", "AP", "AP50", "GMACs",
                                                 "params(M)", "seconds"))


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
    """The run summary: name, controller, trial counts, wall time, best trial, space size."""
    s = run.summary
    return {
        "run": run.name,
        "path": run.path,
        "controller": run.controller,
        "trials_done": s["trials"],
        "trials_requested": s["requested"],
        "failed": s["failed"],
        "statuses": s["statuses"],
        "wall_seconds": run.wall_seconds(),
        "best_trial": s["best_trial"],
        "best_reward": s["best_reward"],
        "best_ap": s["best_ap"],
        "search_space": space_size(s["config"]),
        "baseline": run.baseline,
    }


def leaderboard_rows(run: RunSnapshot, top: int | None = 10) -> list[dict]:
    """The best `top` trials (all for None), best first, with the ROW_KEYS columns.

    Raises:
        UserInputError: `top` is not positive.
    """
    if top is not None and top < 1:
        raise UserInputError(f"--top {top}: give a positive number of trials")
    return numbered(run.ranked(top))


def numbered(ranked: list[dict]) -> list[dict]:
    """Ranked trial rows (best first) as leaderboard rows: their rank and the ROW_KEYS columns."""
    return [{"rank": rank, **{k: row.get(k) for k in ROW_KEYS if k != "rank"}} for rank, row in enumerate(ranked, 1)]


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
    """Leaderboard rows (`numbered`) as an aligned text table (AP in %, FLOPs as GMACs, params in
    millions), with a footnote when some FLOPs were counted before dead blocks were pruned."""
    cells = [[h for h, _, _ in columns]] + [row_cells(r, columns) for r in rows]
    note = pruning_footnote(rows)
    return text_table(cells, left_columns=3) + (note + "\n" if note else "")


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    minutes, secs = divmod(round(seconds), 60)
    return f"{minutes // 60}h{minutes % 60:02d}m{secs:02d}s"


def summary_lines(summary: dict) -> list[str]:
    """The summary as 'key: value' lines for people."""
    requested = summary["trials_requested"]
    best = "-" if summary["best_trial"] is None else (
        f"{percent(summary['best_ap'])} AP (trial {summary['best_trial']})" if summary["best_ap"] is not None
        else f"reward {summary['best_reward']:.4f} (trial {summary['best_trial']})")
    size = summary["search_space"]
    return [
        f"run: {summary['run']} ({summary['path']})",
        f"controller: {summary['controller']}",
        f"trials: {summary['trials_done']} done" + (f" of {requested}" if requested else "")
        + f", {summary['failed']} failed",
        f"wall time: {_duration(summary['wall_seconds'])}",
        f"best: {best}",
        "search space: " + ("-" if size is None else
                            f"{size['paper_total_window']:.3e} (paper count, window rule), "
                            f"{size['decision_lists']:.3e} decision lists"),
    ]
