"""Live progress of a search and its closing summary, read from the results store.

`SearchProgress` is a Ray Tune callback that prints one line whenever a trial finishes (and at
most every `every_s` seconds otherwise): trials done/total, running, failed, the best value of the
reward metric (labelled by the run's task: "best AP", "best top-1") with its trial, ETA.
`closing_text(...)` formats the end-of-run report, its leaderboard with the one formatter of
`nas/inspect/leaderboard.py` and the task's closing columns (metrics in percent, as everywhere
people read them). Both read the task from the summary's stored config (`RunTask`); a summary
without one is detection's.
"""

from __future__ import annotations

import sys
import time

from ray.tune import Callback

from nas.inspect.leaderboard import (
    closing_columns,
    leaderboard_table,
    numbered,
    percent,
    predictor_data,
    predictor_line,
)
from nas.run_folder import RunFolder
from nas.run_task import RunTask
from nas.store import ResultsStore
from search_space.errors import UserInputError


def progress_line(summary: dict, total: int, running: int, elapsed_s: float, done_here: int) -> str:
    """One status line: done/total, running, failed, best value of the reward metric (trial),
    elapsed, ETA.

    Args:
        summary: `ResultsStore.summary()`; total: requested trials; running: trials Ray runs now;
        elapsed_s: seconds since this driver started; done_here: trials finished since then.
    """
    done = summary["trials"]
    best = "-" if summary["best_trial"] is None else f"{_percent(_best_metric(summary))} ({summary['best_trial']})"
    eta = "-"
    if done_here and done < total:
        eta = _clock(elapsed_s / done_here * (total - done))
    return (
        f"[{done}/{total}] running {running} | failed {summary['failed']} | best {_task(summary).reward_label} "
        f"{best} | elapsed {_clock(elapsed_s)} | ETA {eta}"
    )


def _task(summary: dict) -> RunTask:
    return RunTask.of_config(summary.get("config"))


def _best_metric(summary: dict) -> float | None:
    """The best trial's value of the reward metric (a summary without `best_metric` is
    detection's, with `best_ap`)."""
    return summary["best_metric"] if "best_metric" in summary else summary.get("best_ap")


def _percent(value) -> str:
    return "-" if value is None else percent(value)


def _clock(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes}:{secs:02d}"


class SearchProgress(Callback):
    """Prints a progress line after each finished trial, and every `every_s` seconds."""

    def __init__(self, db_path: str, total: int, stop_request=None, every_s: float = 30.0):
        self.db_path = db_path
        self.total = total
        self.stop_request = stop_request  # nas.interrupt.StopRequest: an unreadable store stops the search
        self.every_s = every_s
        self._start = None
        self._done_at_start = None
        self._last = 0.0

    def __getstate__(self):
        return {**self.__dict__, "_start": None, "_done_at_start": None, "stop_request": None}

    def _print(self, trials: list) -> None:
        try:
            with ResultsStore.open_readonly(self.db_path) as store:
                summary = store.summary()
        except UserInputError as err:
            if self.stop_request is None:
                raise
            self.stop_request.fail(err)
            return
        if self._start is None:
            self._start, self._done_at_start = time.monotonic(), summary["trials"]
        running = sum(1 for t in trials if t.status == "RUNNING")
        elapsed = time.monotonic() - self._start
        line = progress_line(summary, self.total, running, elapsed, summary["trials"] - self._done_at_start)
        print(line, file=sys.stdout, flush=True)
        self._last = time.monotonic()

    def setup(self, **info) -> None:
        self._start = None

    def on_step_end(self, iteration: int, trials: list, **info) -> None:
        if self._start is None or time.monotonic() - self._last >= self.every_s:
            self._print(trials)

    def on_trial_complete(self, iteration: int, trials: list, trial, **info) -> None:
        self._print(trials)

    def on_trial_error(self, iteration: int, trials: list, trial, **info) -> None:
        self._print(trials)


def closing_text(run_dir: str, summary: dict, rows: list[dict], best_files: dict[str, str]) -> str:
    """The end-of-run report: counts, leaderboard, where the run, best spec and exports are."""
    task = _task(summary)
    statuses = ", ".join(f"{k} {v}" for k, v in sorted(summary["statuses"].items())) or "none"
    done, wanted = summary["trials"], summary.get("requested") or summary["trials"]
    head = f"search finished: {done} trials ({statuses})"
    if done < wanted:
        head = f"search stopped at {done} of {wanted} trials ({statuses}); continue with: nas search resume={run_dir}"
    parts = [
        head,
        leaderboard_table(numbered(rows, task), closing_columns(task)).rstrip("\n"),
        f"run folder:  {run_dir}  ({RunFolder.STORE_FILE}; inspect with: nas show {run_dir})",
    ]
    if summary.get("replay"):
        replay = summary["replay"]
        parts.insert(
            1, f"replay: {replay['hits']} hits, {replay['fallbacks']} fallbacks, hit rate {replay['hit_rate']:.0%}"
        )
    predictor = predictor_data(summary)
    if predictor is not None:
        parts.insert(1, predictor_line(predictor))
    for label, path in best_files.items():
        parts.append(f"{label + ':':<12} {path}")
    if best_files:
        parts.append(f"export at any scale: nas export {run_dir}:best --format tf --model 49")
    return "\n".join(parts)
