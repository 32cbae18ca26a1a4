"""The task seam end to end: a real 2-trial search with `task=classification` on local Ray (smoke
tier) stores top-1 as each trial's reward and metrics; the reward metric named in the task config
reaches ASHA and the searcher; a stored detection config (or none) still means AP."""

import math

import pytest

from nas.run_task import RunTask
from nas.search import build_scheduler, run_search
from nas.store import ResultsStore
from proxy_trainer.provenance import settings_hash

from .conftest import smoke_config

pytestmark = pytest.mark.ray


@pytest.fixture(scope="module")
def classification_run(ray_env, tmp_path_factory, cache_dir):
    import ray

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        run_dir = tmp_path_factory.mktemp("cls")
        cfg = smoke_config(run_dir, cache_dir, 2, 2, "task=classification")
        yield cfg, run_search(cfg)
    finally:
        ray.shutdown()


def test_trials_store_top1_as_reward_and_metric(classification_run):
    cfg, summary = classification_run
    with ResultsStore.open_readonly(cfg.db_path) as store:
        rows = store.trials()
        stored_task = store.config()["task"]
    assert stored_task == {"name": "classification", "reward_metric": "top1",
                           "options": {"dropout": 0.0, "head_conv": False, "label_smoothing": 0.0}}
    assert len(rows) == 2
    for row in rows:
        assert row["status"] == "ok" and row["error"] is None
        assert set(row["metrics"]) == {"top1", "top5"} and row["metrics"]["top5"] is None  # 5 classes
        assert 0.0 <= row["metrics"]["top1"] <= 1.0 and math.isclose(row["reward"], row["metrics"]["top1"])
        assert row["ap"] is None and row["flops"] > 0 and row["params"] > 0
        assert row["provenance"]["settings_hash"] == settings_hash(cfg.proxy.to_dict(), cfg.data.to_dict(),
                                                                    cfg.task.to_dict())
    best = max(rows, key=lambda r: r["reward"])
    assert summary["reward_metric"] == "top1" and summary["best_metric"] == best["metrics"]["top1"]


def test_the_reward_metric_reaches_asha_and_the_searcher(tmp_path, cache_dir):
    from nas.searcher import ControllerSearcher

    cfg = smoke_config(tmp_path, cache_dir, 2, 2, "task=classification", "scheduler=asha")
    assert cfg.task.reward_metric == "top1" and build_scheduler(cfg).metric == "top1"
    assert ControllerSearcher(cfg, {}).metric == "top1"
    detection = smoke_config(tmp_path, cache_dir, 2, 2, "scheduler=asha", "task.reward_metric=ap50")
    assert build_scheduler(detection).metric == "ap50"


def test_a_config_stored_before_tasks_means_detection_and_ap():
    task = RunTask.of_config({"trials": 4})
    assert (task.name, task.reward_metric, task.reward_label) == ("detection", "ap", "AP")
    assert task.value({"ap": 0.25, "ap50": 0.5}) == 0.25  # a row of a schema-1 store: AP in its column
    assert task.value({"metrics": {"ap": 0.3}, "ap": 0.3}) == 0.3


def test_a_reward_metric_the_task_lacks_is_refused_with_its_metrics(tmp_path, cache_dir):
    from search_space.errors import UserInputError

    with pytest.raises(UserInputError, match=r"task.reward_metric is 'ap'; task classification measures top1, top5"):
        smoke_config(tmp_path, cache_dir, 2, 2, "task=classification", "task.reward_metric=ap")
