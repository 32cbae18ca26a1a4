"""A read-only snapshot of one search run, taken once per verb from its results store.

`load_run(run_dir)` opens the run folder's `search.db` read-only (safe while the search still writes:
SQLite WAL snapshot) and returns a frozen `RunSnapshot` with the store's summary, every trial
row in feedback order, and derived values the inspection verbs share: the run's task (`RunTask`:
its metrics, labels and reward metric), wall time, search-space size, the top-K ranking and the
optional seed baseline.

The seed baseline is the store's meta key `baseline` when a search records one (a dict with
`label` (str), the value of the run's reward metric under that metric's name (`ap` (float) for
detection, `top1` for classification) and `flops` (multiply-adds, int)); otherwise, when the
controller was seeded with a built-in architecture (`controller.options.seed_arch`, e.g.
evolution's `r50-sd`), the first trial that trained exactly that architecture, in the same form
with its `trial_id`. Readers take its value as `baseline[task.reward_metric]` (`baseline_value`).
"""

from __future__ import annotations

import datetime
import os
from dataclasses import dataclass

from nas.ranking import ranked
from nas.run_folder import RunFolder
from nas.run_task import RunTask
from nas.store import ResultsStore
from search_space.builtins import BUILTIN_SPECS
from search_space.serialize import spec_from_dict
from search_space.spec import ArchSpec


@dataclass(frozen=True)
class RunSnapshot:
    """Everything the inspection verbs show about one run."""

    path: str  # the run folder as given
    name: str  # run.name from the stored config, else the folder name
    summary: dict  # ResultsStore.summary()
    trials: tuple[dict, ...]  # every trial row, in the order rewards reached the controller
    baseline: dict | None  # {"label", <reward metric>, "flops"} of the seed network, when recorded

    @property
    def task(self) -> RunTask:
        """The run's task and reward metric, from its stored config."""
        return RunTask.of_config(self.summary["config"])

    @property
    def controller(self) -> str:
        """The controller's registered name ('?' when the config was not stored)."""
        return (self.summary["config"].get("controller") or {}).get("name", "?")

    def ranked(self, top: int | None = None) -> list[dict]:
        """Trials with a reward, best first, at most `top` (`nas.ranking.ranked`)."""
        return ranked(self.trials, top)

    def wall_seconds(self) -> float | None:
        """Seconds from the first trial start to the last trial end (None without timestamps)."""
        starts = [_parse_time(t["started_at"]) for t in self.trials if t.get("started_at")]
        ends = [_parse_time(t["finished_at"]) for t in self.trials if t.get("finished_at")]
        if not starts or not ends:
            return None
        return max(0.0, (max(ends) - min(starts)).total_seconds())


def _parse_time(text: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(text)


def trial_spec(row: dict) -> ArchSpec:
    """The architecture of a trial row, named `trial-<id>` when the stored spec has no name."""
    return spec_from_dict(row["spec"], default_name=f"trial-{row['trial_id']}")


def seeded_baseline(config: dict, trials: tuple[dict, ...]) -> dict | None:
    """The first trial (with a value of the reward metric) of the built-in architecture the
    controller was seeded with, that value under the metric's name."""
    name = ((config.get("controller") or {}).get("options") or {}).get("seed_arch")
    if name not in BUILTIN_SPECS:
        return None
    target, task = BUILTIN_SPECS[name], RunTask.of_config(config)
    for row in trials:
        value = task.value(row)
        if value is not None and row["spec"] and trial_spec(row).renamed(target.name) == target:
            return {"label": f"{name} (trial {row['trial_id']})", task.reward_metric: value, "flops": row["flops"],
                    "trial_id": row["trial_id"]}
    return None


def baseline_value(run: RunSnapshot) -> float | None:
    """The seed baseline's value of the run's reward metric (None without a baseline or value)."""
    return (run.baseline or {}).get(run.task.reward_metric)


def load_run(run_dir: str) -> RunSnapshot:
    """Read one run's store once.

    Raises:
        UserInputError: missing folder/store, or a file that is not a results store.
    """
    with ResultsStore.open_readonly(RunFolder.existing(run_dir).store) as store:
        summary = store.summary()
        trials = tuple(store.trials())
        baseline = store.meta("baseline")
    name = (summary["config"].get("run") or {}).get("name") or os.path.basename(os.path.normpath(run_dir))
    if not isinstance(baseline, dict):
        baseline = seeded_baseline(summary["config"], trials)
    return RunSnapshot(run_dir, name, summary, trials, baseline)
