"""Re-checking a winner: retrain a stored architecture with several seeds (`nas retrain`).

The best of many noisy trials is optimistic, so `retrain(RunTrial, seeds)` trains the stored
spec again with seeds `proxy.seed + 1 .. proxy.seed + N` (the run's proxy/data config, or a newly
composed one when overrides are given), stores each result in the run's `retrains` table, and
returns the mean and spread next to the search's own number.
"""

from __future__ import annotations

import dataclasses
import statistics

from nas.config import ConfigError, load_proxy_and_data, proxy_and_data
from nas.run_folder import RunTrial
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


def retrain(source: RunTrial, seeds: int, overrides: list[str] = (), train=None) -> dict:
    """Retrain the trial `source` names (RUN:TRIAL or RUN:best) with `seeds` seeds: with the run's
    own proxy and data config, or a fresh composition when overrides are given.

    Args:
        train: the training function returning a `TrialResult` (default
            `proxy_trainer.train.train_and_evaluate`).
    Returns:
        {'trial_id', 'search_reward', 'search_ap', 'results': [...], 'ap': spread of AP}.
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
    proxy, data = load_proxy_and_data(overrides) if overrides else proxy_and_data(stored)
    spec = spec_from_dict(row["spec"])
    results = []
    store = ResultsStore(db)
    try:
        for k in range(1, seeds + 1):
            seeded = dataclasses.replace(proxy, seed=proxy.seed + k)
            result = train(spec, seeded, data).flat()
            store.add_retrain(row["trial_id"], seeded.seed, proxy.tier, result, training_provenance(seeded, data))
            results.append({**result, "seed": seeded.seed})
    finally:
        store.close()
    aps = [r["ap"] for r in results if r.get("status") == "ok" and r.get("ap") is not None]
    return {
        "trial_id": row["trial_id"],
        "search_reward": row["reward"],
        "search_ap": row["ap"],
        "proxy": proxy.tier,
        "results": results,
        "ap": spread(aps) if aps else None,
    }
