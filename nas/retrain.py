"""Re-checking a winner: retrain a stored architecture with several seeds (`nas retrain`).

The best of many noisy trials is optimistic, so `retrain(RunTrial, seeds)` trains the stored
spec again with seeds `proxy.seed + 1 .. proxy.seed + N` and the run's own task (the run's
proxy/data/task config, or, when overrides are given, a fresh composition that starts from the
run's task so its tier and data defaults apply), stores each result in the run's `retrains`
table, and returns the mean and spread of the run's reward metric next to the search's own value.
"""

from __future__ import annotations

import dataclasses
import statistics

from nas.config import ConfigError, compose_config, proxy_and_data, task_config
from nas.run_folder import RunTrial
from nas.run_task import RunTask
from nas.store import ResultsStore
from search_space.serialize import spec_from_dict


def spread(values: list[float]) -> dict:
    """Mean, sample standard deviation (0 for one value), min and max."""
    return {
        "mean": statistics.fmean(values),
        "std": statistics.stdev(values) if len(values) > 1 else 0.0,
        "min": min(values),
        "max": max(values),
        "n": len(values),
    }


def retrain_config(stored: dict, overrides: list[str]) -> dict:
    """The resolved config a retrain trains with: the run's own, or a fresh composition of
    `overrides` on the run's task.

    Raises:
        ConfigError: bad overrides, or a task other than the run's.
    """
    if not overrides:
        return stored
    run_task = RunTask.of_config(stored).name
    plain = compose_config([f"task={run_task}", *overrides])
    if plain["task"]["name"] != run_task:
        raise ConfigError(f"task={plain['task']['name']}: nas retrain trains with the run's own task ({run_task}); "
                          "leave out the task override")
    return plain


def retrain(source: RunTrial, seeds: int, overrides: list[str] = (), train=None) -> dict:
    """Retrain the trial `source` names (RUN:TRIAL or RUN:best) with `seeds` seeds and the run's
    task: with the run's own proxy and data config, or a fresh composition when overrides are given.

    Args:
        train: the training function returning a `TrialResult`, called as
            `train(spec, proxy, data, task=TaskConfig)` (default `proxy_trainer.train.train_and_evaluate`).
    Returns:
        {'trial_id', 'search_reward', 'proxy', 'results': [...], 'reward_metric', 'reward_label',
        'search_<metric>': the search's value of the run's reward metric, '<metric>': its spread
        over the seeds} (detection: 'search_ap' and 'ap').
    Raises:
        UserInputError: bad run/trial, seeds < 1, or bad overrides.
    """
    if seeds < 1:
        raise ConfigError(f"--seeds {seeds}: give at least 1")
    if train is None:
        from proxy_trainer.train import train_and_evaluate as train
    from proxy_trainer.provenance import training_provenance

    db = source.folder.store
    with ResultsStore.open_readonly(db) as store:
        row = source.row(store)
        stored = store.config()
    plain = retrain_config(stored, list(overrides))
    (proxy, data), task = proxy_and_data(plain), task_config(plain)
    run_task = RunTask.of_config(stored)
    spec = spec_from_dict(row["spec"])
    results = []
    store = ResultsStore(db)
    try:
        for k in range(1, seeds + 1):
            seeded = dataclasses.replace(proxy, seed=proxy.seed + k)
            result = train(spec, seeded, data, task=task).flat()
            provenance = training_provenance(seeded, data, task)
            store.add_retrain(row["trial_id"], seeded.seed, proxy.tier, result, provenance)
            results.append({**result, "seed": seeded.seed})
    finally:
        store.close()
    metric = run_task.reward_metric
    values = [r[metric] for r in results if r.get("status") == "ok" and r.get(metric) is not None]
    return {
        "trial_id": row["trial_id"],
        "search_reward": row["reward"],
        "reward_metric": metric,
        "reward_label": run_task.reward_label,
        f"search_{metric}": run_task.value(row),
        "proxy": proxy.tier,
        "results": results,
        metric: spread(values) if values else None,
    }
