"""ASHA end to end: a real search on local Ray, one trial at a time so the rung decisions are
deterministic, whose trials report AP after every epoch; trials below a rung's cutoff are stopped,
and their rows say so and carry the last AP they reported as the reward."""

import json
import math

import numpy
import pytest

from nas.search import run_search
from nas.store import ResultsStore

from .conftest import smoke_config

pytestmark = pytest.mark.ray
EPOCHS = 3


@pytest.fixture(scope="module")
def asha_rows(ray_env, tmp_path_factory, cache_dir):
    import ray

    ray.init(num_cpus=1, include_dashboard=False, log_to_driver=False)
    try:
        run_dir = tmp_path_factory.mktemp("asha")
        cfg = smoke_config(run_dir, cache_dir, 6, 1, f"proxy.epochs={EPOCHS}", "controller=random",
                           "scheduler=asha", "scheduler.grace_period=1", "scheduler.reduction_factor=2")
        summary = run_search(cfg)
    finally:
        ray.shutdown()
    with ResultsStore.open_readonly(cfg.db_path) as store:
        rows = sorted(store.trials(), key=lambda r: r["proposal_index"])
    return rows, summary, run_dir


def test_stopped_rows_keep_their_last_reported_ap(asha_rows):
    rows, summary, _ = asha_rows
    assert len(rows) == 6 and summary["failed"] == 0
    for row in rows:
        if row["status"] == "stopped":
            assert 1 <= row["epochs_done"] < EPOCHS and math.isclose(row["reward"], row["ap"])
        else:
            assert row["status"] == "ok" and row["epochs_done"] == EPOCHS
    assert summary["statuses"].get("stopped", 0) >= 1  # ASHA did stop something


def test_rung_decisions_follow_the_epoch_reports(asha_rows):
    """Replays Ray's ASHA rule on the AP reports Ray recorded (one trial at a time, so in order):
    rungs at iterations 4, 2, 1 (max_t = epochs + 1 with the final summary, grace 1, factor 2);
    a report at a rung the trial has not passed yet stops it when it is below the median of the
    earlier trials' reports there."""
    rows, _, run_dir = asha_rows
    curves = ap_reports(run_dir)
    rungs: dict[int, list[tuple[str, float]]] = {4: [], 2: [], 1: []}
    for row in rows:
        stopped_at = None
        for iteration, ap in enumerate(curves[row["trial_id"]], start=1):
            milestone = next((m for m in rungs if iteration >= m and row["trial_id"] not in rungs_seen(rungs, m)), None)
            if milestone is None:
                continue
            recorded = rungs[milestone]
            below = bool(recorded) and ap < float(numpy.percentile([v for _, v in recorded], 50))
            recorded.append((row["trial_id"], ap))
            if below and iteration <= EPOCHS:
                stopped_at = iteration
                break
        assert row["epochs_done"] == (stopped_at or EPOCHS), row["trial_id"]
        assert (row["status"] == "stopped") == (stopped_at is not None)


def rungs_seen(rungs: dict, milestone: int) -> set[str]:
    return {trial for trial, _ in rungs[milestone]}


def ap_reports(run_dir) -> dict[str, list[float]]:
    """trial id -> the AP of each report in iteration order (epochs, then the final summary)."""
    curves = {}
    for path in run_dir.glob("ray/**/result.json"):
        reports = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
        reports.sort(key=lambda r: r["training_iteration"])
        curves[reports[0]["trial_id"]] = [r["ap"] for r in reports]
    return curves
