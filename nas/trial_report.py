"""The flat dicts that carry a `TrialResult` through Ray Tune: built and read here, nowhere else.

Ray Tune's reports, schedulers and searchers take flat dicts of scalars. `to_report(result, ...)`
is `TrialResult.flat()` plus `final` (the result's per-epoch versus final field) and the trial's
context (`started_at`, `proposal_index`; a replayed answer adds `replay` and `flops_pruned`)
and the training's provenance (as JSON text);
the reward metric (the task's, e.g. `ap` or `top1`: what ASHA compares) is one of the flat keys.
`from_report` reads one back, given the task's metric names and reward metric (`ResultKeys`;
by default detection's). `outcome(report, ray_error)` is the result a finished trial is stored with: its final
report, a stopped trial's last epoch report, or an error (Ray gave it up, or it reported nothing).
"""

from __future__ import annotations

import json
from typing import NamedTuple

from search_space.trial_result import DETECTION_METRICS, DETECTION_REWARD, TrialResult, TrialStatus

FINAL = "final"
PROVENANCE = "provenance"  # carried as JSON text: Ray wants scalars
RAY_GAVE_UP = "Ray saw the trial's worker or node die (retries used up)"
NO_RESULT = "the trial reported no result"


class ResultKeys(NamedTuple):
    """Which flat keys are a task's metrics, and which of them the reward reads."""

    metric_names: tuple[str, ...] = DETECTION_METRICS
    reward_metric: str = DETECTION_REWARD

    @classmethod
    def of(cls, task) -> ResultKeys:
        """The keys of a `TaskConfig` (its task's metric names, its reward metric)."""
        return cls(tuple(task.metrics.names), task.reward_metric)


DETECTION_KEYS = ResultKeys()


def to_report(result: TrialResult, provenance: dict | None = None, **context) -> dict:
    """The flat dict Ray Tune receives for `result`, with the context keys and the training's
    provenance (`proxy_trainer.provenance`) added."""
    extra = {} if provenance is None else {PROVENANCE: json.dumps(provenance, sort_keys=True)}
    return {**result.flat(), FINAL: result.final, **context, **extra}


def report_provenance(report: dict | None) -> dict | None:
    """The provenance a report carries, or None."""
    text = (report or {}).get(PROVENANCE)
    return None if text is None else json.loads(text)


def from_report(report: dict, keys: ResultKeys = DETECTION_KEYS) -> TrialResult:
    """The result a report of `to_report` carries (keys it lacks read as None)."""
    return TrialResult.from_flat(report, keys.metric_names, final=bool(report.get(FINAL)),
                                 reward_metric=keys.reward_metric)


def outcome(report: dict | None, ray_error: bool, keys: ResultKeys = DETECTION_KEYS) -> TrialResult:
    """The result a finished trial is stored with, from its last report and Ray's error flag:
    Ray's error (its reason, or `RAY_GAVE_UP`), no report of ours, ASHA's stop after an epoch
    report (status stopped), or the final report as it is."""
    if ray_error:
        return from_report(report or {}, keys).with_status(TrialStatus.ERROR,
                                                           (report or {}).get("error") or RAY_GAVE_UP)
    if not report or FINAL not in report:
        return TrialResult.failure(TrialStatus.ERROR, NO_RESULT, keys.reward_metric)
    result = from_report(report, keys)
    return result if result.final else result.with_status(TrialStatus.STOPPED)
