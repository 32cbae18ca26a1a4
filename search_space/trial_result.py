"""The result of one proxy training (one search trial) as one typed value, `TrialResult`.

It is the contract between the packages: `proxy_trainer.train.train_and_evaluate` returns it,
`controller.reward.RewardRule` values it, `nas/trainable.py` reports it to Ray Tune (the flat
dict of `nas/trial_report.py`, built from `flat()`), and `nas/store.py` derives the `trials`
columns from its fields; replay, progress and inspection read those columns back.

Why here: it must be importable without torch, Ray or Hydra by `proxy_trainer`, `controller`
and `nas` alike, and `search_space/` is the one package all three import (the imports run one
way: nas -> controller, proxy_trainer -> search_space). Like `search_space/errors.py`, it is a
shared standard-library definition, not a search-space concept; keeping it in the base package
adds no new import edge and keeps `search_space` pure (tests/search_space/test_purity.py).

`metrics` maps a metric name to its value (None where the task has no value, e.g. COCOeval's -1
for an area range without ground truth); `reward_metric` names the one the reward reads. A task
with other metrics adds its own names; this type does not change. `TaskMetrics` is what a task
declares about its metrics (names, default reward metric, labels for human output); each task's
folder under `proxy_trainer/tasks/` holds its own. `final` tells a trial's final
result from a per-epoch report: a trial that ASHA stops ends on a per-epoch report.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

DETECTION_METRICS = ("ap", "ap50", "ap75", "aps", "apm", "apl")  # COCOeval.stats[0:6], in order; also
# the results store's per-metric columns since its first schema (nas/store_schema.py)
DETECTION_REWARD = "ap"  # the detection task's reward metric, and a result's when none is named
RUN_STATS = ("params", "flops", "train_seconds", "images_per_second", "epochs_done")  # fields stored per trial


@dataclass(frozen=True)
class TaskMetrics:
    """What a task measures: its metric names (display order), the reward metric by default, and
    the label of each metric in human output. Every metric is a fraction in [0, 1] (shown as a
    percent); higher is better."""

    task: str  # the task's name (its folder under proxy_trainer/tasks/, its config file task/<name>.yaml)
    names: tuple[str, ...]  # metric names, as keys of `TrialResult.metrics`
    reward: str  # the metric the reward reads unless the config names another
    labels: Mapping[str, str] = field(default_factory=dict)  # name -> label ("ap" -> "AP")

    def __post_init__(self) -> None:
        if self.reward not in self.names:
            raise ValueError(f"task {self.task}: reward metric {self.reward!r} is not one of {self.names}")

    def label(self, name: str) -> str:
        """How human output names a metric (its label, else the name itself)."""
        return self.labels.get(name, name)


class TrialStatus(str, enum.Enum):
    """How a trial ended (its value is what the store and the JSON outputs hold)."""

    OK = "ok"  # trained every epoch and was scored
    STOPPED = "stopped"  # ASHA stopped it after a per-epoch report
    NAN_LOSS = "nan_loss"  # the loss became NaN or infinite
    OOM = "oom"  # out of memory
    ERROR = "error"  # any other exception, or Ray gave the trial up

    @property
    def failed(self) -> bool:
        """True for the statuses whose trial has no usable score."""
        return self in FAILED_STATUSES


FAILED_STATUSES = frozenset({TrialStatus.NAN_LOSS, TrialStatus.OOM, TrialStatus.ERROR})


@dataclass(frozen=True)
class EpochReport:
    """One epoch's report: its number, mean training loss and metrics."""

    epoch: int
    loss: float | None
    metrics: Mapping[str, float | None] = field(default_factory=dict)


@dataclass(frozen=True)
class TrialResult:
    """One trial's outcome (see the module docstring)."""

    status: TrialStatus
    error: str | None = None  # the reason of a failure
    metrics: Mapping[str, float | None] = field(default_factory=dict)
    reward_metric: str = DETECTION_REWARD
    params: int | None = None
    flops: int | None = None  # multiply-adds
    train_seconds: float | None = None
    images_per_second: float | None = None
    epochs_done: int | None = None
    loss: float | None = None  # the last epoch's mean training loss
    data: Mapping[str, int] = field(default_factory=dict)  # data counts (PreparedData.summary)
    epochs: tuple[EpochReport, ...] = ()  # per-epoch reports, oldest first
    final: bool = True  # False: a per-epoch report, the training may go on (or be stopped)

    @classmethod
    def failure(cls, status: TrialStatus, error: str, reward_metric: str = DETECTION_REWARD) -> TrialResult:
        """A failed trial with its reason (the text cut to 2000 characters)."""
        return cls(status=TrialStatus(status), error=error[:2000], reward_metric=reward_metric)

    @classmethod
    def of_epoch(cls, report: EpochReport, reward_metric: str = DETECTION_REWARD) -> TrialResult:
        """The non-final result an epoch report stands for (what ASHA compares)."""
        return cls(TrialStatus.OK, metrics=dict(report.metrics), reward_metric=reward_metric,
                   epochs_done=report.epoch, loss=report.loss, final=False)

    @property
    def score(self) -> float | None:
        """The reward metric's value; None when missing or not finite."""
        value = self.metrics.get(self.reward_metric)
        return value if value is not None and math.isfinite(value) else None

    def with_status(self, status: TrialStatus, error: str | None = None) -> TrialResult:
        """The same result under another status (and error text)."""
        return replace(self, status=TrialStatus(status), error=error)

    def flat(self) -> dict:
        """Scalars only, one key each: status, error, the metrics (the reward metric's key always,
        None when a failure left it unmeasured: Ray Tune's schedulers and searchers require their
        metric in every report), params, flops, timings, epochs done, loss, data counts (what
        `nas train` prints and a retrain stores)."""
        stats = {k: getattr(self, k) for k in RUN_STATS}
        metrics = {self.reward_metric: None, **self.metrics}
        return {"status": self.status.value, "error": self.error, **metrics, **stats, "loss": self.loss, **self.data}

    @classmethod
    def from_flat(cls, flat: Mapping, metric_names=DETECTION_METRICS, final: bool = True,
                  reward_metric: str = DETECTION_REWARD) -> TrialResult:
        """A result from its `flat()` form, reading the metrics `metric_names` (missing keys read
        as None, a missing status as ok; data counts are not read back)."""
        return cls(
            status=TrialStatus(flat.get("status") or TrialStatus.OK),
            error=flat.get("error"),
            metrics={k: flat.get(k) for k in metric_names},
            reward_metric=reward_metric,
            **{k: flat.get(k) for k in RUN_STATS},
            loss=flat.get("loss"),
            final=final,
        )
