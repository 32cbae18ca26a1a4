"""End to end: a real 4-trial search on local Ray (smoke tier, PPO), asserting store rows,
statuses, metrics, each training's provenance, proposals, controller checkpoints, the best-spec files and the closing report."""

import json
import math
import os

import pytest

from nas.progress import closing_text, progress_line
from nas.search import run_search
from nas.store import ResultsStore
from proxy_trainer.provenance import settings_hash
from search_space import SearchSpace
from search_space.serialize import spec_from_dict

from .conftest import smoke_config

pytestmark = pytest.mark.ray


@pytest.fixture(scope="module")
def ray_local(ray_env):
    import ray

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def finished_run(ray_local, tmp_path_factory, cache_dir):
    run_dir = tmp_path_factory.mktemp("run")
    cfg = smoke_config(run_dir, cache_dir, 4, 2)
    summary = run_search(cfg)
    return cfg, summary


def test_rows_statuses_and_metrics(finished_run):
    cfg, summary = finished_run
    with ResultsStore.open_readonly(cfg.db_path) as store:
        rows = store.trials()
        proposals = store.pending_proposals()
        checkpoint = store.latest_checkpoint()
    assert len(rows) == 4 and len({r["trial_id"] for r in rows}) == 4 and proposals == []
    assert sorted(r["proposal_index"] for r in rows) == [0, 1, 2, 3]
    space = SearchSpace.from_seed("resnet50")
    for row in rows:
        assert row["status"] == "ok" and row["error"] is None and row["replay"] is None
        assert 0.0 <= row["ap"] <= 1.0 and math.isclose(row["reward"], row["ap"])
        assert row["flops"] > 0 and row["params"] > 0 and row["train_seconds"] > 0
        assert row["epochs_done"] == cfg.proxy.epochs
        assert space.decode(row["decisions"]).blocks == spec_from_dict(row["spec"]).blocks
        assert row["started_at"] <= row["finished_at"]
        assert row["provenance"]["settings_hash"] == settings_hash(cfg.proxy.to_dict(), cfg.data.to_dict())
        assert row["provenance"]["packages"]["torch"] and "git_commit" in row["provenance"]
    assert checkpoint["trials_fed"] == 4 and checkpoint["state"]["num_feedbacks"] == 4
    assert summary["trials"] == 4 and summary["failed"] == 0 and summary["statuses"] == {"ok": 4}


def test_config_provenance_and_best_files(finished_run):
    cfg, summary = finished_run
    with ResultsStore.open_readonly(cfg.db_path) as store:
        assert store.config()["trials"] == 4 and store.config()["proxy"]["tier"] == "smoke"
        assert store.provenance()["packages"]["ray"] and store.provenance()["cpus"] >= 1
        best, best_row = store.trial_spec("best"), store.best_trial()
        rows = store.leaderboard()
    with open(os.path.join(cfg.run_dir, "best_spec.json"), encoding="utf-8") as handle:
        assert spec_from_dict(json.load(handle)) == best
    assert summary["best_trial"] == best_row["trial_id"] == rows[0]["trial_id"]
    assert os.path.exists(os.path.join(cfg.run_dir, "best_spec_tf.txt"))
    assert os.path.isdir(os.path.join(cfg.run_dir, "ray"))  # Ray Tune state under the run folder
    text = closing_text(cfg.run_dir, summary, rows, {"best spec": "B"})
    assert "search finished: 4 trials (ok 4)" in text and best_row["trial_id"] in text.splitlines()[2]
    line = progress_line(summary, 8, 1, 60.0, 4)
    assert (
        line
        == f"[4/8] running 1 | failed 0 | best AP {100 * summary['best_ap']:.1f} ({best_row['trial_id']}) | elapsed 1:00 | ETA 1:00"
    )
