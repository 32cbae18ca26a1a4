"""The instance task end to end: a real 2-trial search with `task=instance` on local Ray (smoke
tier, one epoch) stores mask AP as each trial's reward with box AP beside it, and `nas show` labels
both ("mask AP", "box AP") on the resulting run."""

import json
import math

import pytest

from nas.cli import main
from nas.search import run_search
from nas.store import ResultsStore
from proxy_trainer.tasks import task_metrics

from .conftest import smoke_config

pytestmark = pytest.mark.ray


@pytest.fixture(scope="module")
def instance_run(ray_env, tmp_path_factory, cache_dir):
    import ray

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        run_dir = tmp_path_factory.mktemp("inst")
        cfg = smoke_config(run_dir, cache_dir, 2, 2, "task=instance")
        yield cfg, run_search(cfg)
    finally:
        ray.shutdown()


def test_trials_store_mask_ap_as_reward_beside_box_ap(instance_run):
    cfg, summary = instance_run
    with ResultsStore.open_readonly(cfg.db_path) as store:
        rows = store.trials()
        stored_task = store.config()["task"]
    assert stored_task == {"name": "instance", "reward_metric": "mask_ap",
                           "options": {"train_proposals": 500, "test_proposals": 250, "rois_per_image": 128}}
    assert len(rows) == 2
    for row in rows:
        assert row["status"] == "ok" and row["error"] is None
        assert set(row["metrics"]) == set(task_metrics("instance").names)
        assert 0.0 <= row["metrics"]["mask_ap"] <= 1.0 and math.isclose(row["reward"], row["metrics"]["mask_ap"])
        assert row["ap"] == row["metrics"]["ap"] and row["flops"] > 0  # box AP also fills its column
    assert summary["reward_metric"] == "mask_ap"


def test_show_labels_mask_and_box_metrics(instance_run, capsys):
    cfg, _ = instance_run
    assert main(["show", cfg.run_dir]) == 0
    out = capsys.readouterr().out
    assert "mask AP (trial" in out
    header = next(line for line in out.splitlines() if line.startswith("rank"))
    assert header.split("  ")[0] == "rank" and "mask AP" in header and "box AP" in header and "mask APs" in header
    assert main(["show", cfg.run_dir, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["summary"]["reward_metric"] == "mask_ap" and "mask_ap" in data["leaderboard"][0]
