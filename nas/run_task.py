"""The task of a search run as the driver and the inspection verbs see it: `RunTask`, its metric
names and labels (`TaskMetrics` of `proxy_trainer/tasks/<name>/`) and the metric its reward reads,
taken from the run's stored config. A config stored before tasks existed is detection's, reward AP.
Reading it imports no torch.
"""

from __future__ import annotations

from dataclasses import dataclass

from nas.store_schema import row_metrics
from proxy_trainer.tasks import DEFAULT_TASK, task_metrics
from search_space.trial_result import TaskMetrics


@dataclass(frozen=True)
class RunTask:
    """A run's task metrics and reward metric."""

    metrics: TaskMetrics
    reward_metric: str

    @classmethod
    def of_config(cls, config: dict | None) -> RunTask:
        """The task of a stored (or freshly composed) config dict."""
        task = (config or {}).get("task") or {}
        metrics = task_metrics(task.get("name", DEFAULT_TASK))
        return cls(metrics, task.get("reward_metric", metrics.reward))

    @property
    def name(self) -> str:
        return self.metrics.task

    @property
    def reward_label(self) -> str:
        """How people read the reward metric ("AP", "top-1")."""
        return self.metrics.label(self.reward_metric)

    def value(self, row: dict | None, name: str | None = None) -> float | None:
        """A stored row's value of metric `name` (default: the reward metric)."""
        return None if row is None else row_metrics(row).get(name or self.reward_metric)
