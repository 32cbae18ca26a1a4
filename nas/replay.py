"""Replay mode (`proxy=replay replay.from=<run dir>`): a controller searches against the recorded
rewards of a finished run, in this process, without training or Ray.

A proposal whose decisions were recorded is a *hit* and gets that trial's reward and metrics.
Any other proposal gets the documented fallback, `nearest`: the reward of the recorded trial at
the smallest Hamming distance over the decision lists (earliest recorded on ties). Each stored
row says which it was (`replay` column: `hit:<trial>` or `fallback:<trial>:d=<distance>`), and
the run's hit rate is stored (meta `replay`) and printed, so nobody mistakes a fallback for data.
"""

from __future__ import annotations

import dataclasses
import os
import uuid

from nas.config import ConfigError, SearchConfig, SpaceSettings
from nas.run_folder import RunFolder
from nas.run_task import RunTask
from nas.searcher import SearchRuntime
from nas.store import ResultsStore
from nas.store_schema import result_from_row
from nas.trial_report import to_report
from search_space.trial_result import DETECTION_REWARD


def load_record(cfg: SearchConfig) -> list[dict]:
    """The recorded rows of the run named by `replay.from`, checked to share this search space
    and this search's task and reward metric.

    Raises:
        ConfigError: no such run, no rows, or a different search space, task or reward metric.
    """
    db = RunFolder(cfg.replay.source).store
    if not os.path.isfile(db):
        raise ConfigError(
            f"replay.from={cfg.replay.source} has no {RunFolder.STORE_FILE}; give the folder of a finished search"
        )
    with ResultsStore.open_readonly(db) as store:
        rows, source_space, source_task = store.trials(), store.config().get("space"), RunTask.of_config(store.config())
    if (source_task.name, source_task.reward_metric) != (cfg.task.name, cfg.task.reward_metric):
        raise ConfigError(
            f"replay.from run is task {source_task.name} with reward {source_task.reward_metric}, this search "
            f"task {cfg.task.name} with reward {cfg.task.reward_metric}; add task={source_task.name} "
            f"task.reward_metric={source_task.reward_metric}"
        )
    if not isinstance(source_space, dict) or SpaceSettings(**source_space) != cfg.space:
        raise ConfigError(
            f"replay.from run searched space {source_space}, this search {cfg.plain['space']}; use the same space"
        )
    rows = [r for r in rows if r.get("replay") is None]  # only trained trials are data
    if not rows:
        raise ConfigError(f"replay.from={cfg.replay.source} has no trained trials to replay")
    return rows


def hamming(a, b) -> int:
    """Number of positions where two decision lists differ."""
    return sum(x != y for x, y in zip(a, b)) + abs(len(a) - len(b))


def answer(record: list[dict], decisions, reward_metric: str = DETECTION_REWARD) -> dict:
    """The result a replayed proposal receives: a recorded hit or the nearest recorded trial."""
    decisions = list(decisions)
    best = min(record, key=lambda row: hamming(row["decisions"], decisions))
    distance = hamming(best["decisions"], decisions)
    tag = f"hit:{best['trial_id']}" if distance == 0 else f"fallback:{best['trial_id']}:d={distance}"
    # the recorded result as a final report (a stopped record stays stopped); copied counts keep
    # the record's counting, and the row keeps the recorded training's provenance
    result = dataclasses.replace(result_from_row(best, reward_metric), final=True)
    return to_report(result, best.get("provenance"), replay=tag, flops_pruned=best.get("flops_pruned"))


def hit_stats(store: ResultsStore, source: str) -> dict:
    """Hits, fallbacks and hit rate over this run's rows."""
    tags = [row["replay"] or "" for row in store.trials()]
    hits = sum(tag.startswith("hit:") for tag in tags)
    fallbacks = sum(tag.startswith("fallback:") for tag in tags)
    return {
        "source": os.path.abspath(source),
        "hits": hits,
        "fallbacks": fallbacks,
        "hit_rate": hits / max(1, hits + fallbacks),
        "fallback_rule": "nearest (Hamming distance on decisions)",
    }


def run_replay(cfg: SearchConfig) -> dict:
    """Run the search loop against the record until `cfg.trials` rows are stored; returns hit stats."""
    record = load_record(cfg)
    runtime = SearchRuntime(cfg)
    try:
        while runtime.wanted() > 0:
            trial_id = f"replay-{uuid.uuid4().hex[:8]}"  # unique across resumes, like Ray's trial ids
            runtime.suggest(trial_id)
            decisions = runtime.live[trial_id].decisions
            runtime.complete(trial_id, answer(record, decisions, cfg.task.reward_metric), error=False)
        stats = hit_stats(runtime.store, cfg.replay.source)
        runtime.store.set_meta("replay", stats)
    finally:
        runtime.store.close()
    return stats
