"""Proxy tasks, one folder each (`detection`, `classification`): the registry of their names.

A task's folder holds, in its `__init__.py`, its `METRICS` (a `TaskMetrics`: metric names, the
default reward metric, labels) and nothing heavy, so the search driver and the inspection verbs
read metric names without importing torch; its `runner.py` holds `RUNNER`, the `TaskRunner`
(`proxy_trainer/tasks/base.py`) that builds, trains and scores its model. The task names are the
folders found here: adding a task adds a folder (and its config file `nas/conf/task/<name>.yaml`).
"""

from __future__ import annotations

import importlib
import os

from search_space.errors import UserInputError
from search_space.trial_result import TaskMetrics

DEFAULT_TASK = "detection"  # the task of every run stored before tasks existed
HERE = os.path.dirname(os.path.abspath(__file__))


def task_names() -> tuple[str, ...]:
    """The tasks that exist: the sub-packages of this folder, sorted."""
    return tuple(sorted(name for name in os.listdir(HERE)
                        if os.path.isfile(os.path.join(HERE, name, "__init__.py")) and not name.startswith("_")))


def _task_module(name: str, part: str = ""):
    if name not in task_names():
        raise UserInputError(f"unknown task {name!r}; use one of {', '.join(task_names())} (task=NAME)")
    return importlib.import_module(f"{__name__}.{name}{part}")


def task_metrics(name: str = DEFAULT_TASK) -> TaskMetrics:
    """The metric names, default reward metric and labels of a task (no torch imported).

    Raises:
        UserInputError: no such task (one line naming the known ones).
    """
    return _task_module(name).METRICS


def task_runner(name: str = DEFAULT_TASK):
    """The `TaskRunner` of a task (imports torch and the task's model code).

    Raises:
        UserInputError: no such task.
    """
    return _task_module(name, ".runner").RUNNER
