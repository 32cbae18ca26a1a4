"""The searcher's bookkeeping without Ray: commit before feedback, a re-run trial counted once,
proposals handed out but never stored suggested again first (same index, decisions, spec, meta),
unfinished trials not stored while a stop is requested, failures mapped to the penalty,
ASHA-stopped rows, and a rebuilt controller (checkpoint + stored rows) equal to the one that
never stopped."""

import os

import pytest

from nas.config import SearchConfig, compose_config
from nas.searcher import SearchRuntime
from nas.store import ResultsStore
from nas.trial_report import outcome, to_report
from search_space.trial_result import EpochReport, TrialResult


def config(tmp_path, *extra):
    return SearchConfig.from_dict(
        compose_config([f"run.dir={tmp_path}", "proxy=smoke", "trials=6", "checkpoint_every=2", *extra])
    )


def ok(ap):
    return {"final": True, "status": "ok", "ap": ap, "flops": 10, "params": 5, "epochs_done": 3}


def epoch_report(ap, epoch=1):
    """What the trainable reports to Tune after an epoch."""
    return to_report(TrialResult.of_epoch(EpochReport(epoch, 1.0, {"ap": ap})))


@pytest.mark.parametrize(
    ("result", "error", "expected"),
    [
        (ok(0.2), False, ("ok", None)),
        ({"final": True, "status": "nan_loss", "error": "loss is nan"}, False, ("nan_loss", "loss is nan")),
        (epoch_report(0.1), False, ("stopped", None)),
        (None, False, ("error", "the trial reported no result")),
        ({"ap": 0.1, "final": False}, True, ("error", "Ray saw the trial's worker or node die (retries used up)")),
    ],
)
def test_trial_outcome(result, error, expected):
    found = outcome(result, error)
    assert (found.status.value, found.error) == expected


def test_commit_then_feedback_once_and_penalty(tmp_path):
    rt = SearchRuntime(config(tmp_path, "controller=evolution", "reward.failed_penalty=-1"))
    for k in range(3):
        rt.suggest(f"t{k}")
    assert rt.wanted() == 3 and len(rt.live) == 3
    assert rt.complete("t1", ok(0.3), False)["reward"] == 0.3
    assert rt.complete("t1", ok(0.9), False) is None  # Ray re-ran a stored trial: ignored
    row = rt.complete("t0", {"final": True, "status": "oom", "error": "OutOfMemoryError: x"}, False)
    assert (row["status"], row["reward"], row["error"]) == ("oom", -1.0, "OutOfMemoryError: x")
    assert rt.complete("t2", epoch_report(0.05), False) is None  # FIFO: torn down, not ended
    assert [p["trial_id"] for p in rt.store.pending_proposals()] == ["t2"]
    assert rt.controller.num_feedbacks == 2 and rt.fed == 2
    assert rt.store.latest_checkpoint()["trials_fed"] == 2


def test_asha_stopped_trials_are_stored_with_their_last_ap(tmp_path):
    rt = SearchRuntime(config(tmp_path, "controller=random", "scheduler=asha"))
    rt.suggest("t0")
    stopped = rt.complete("t0", epoch_report(0.05), False)
    assert (stopped["status"], stopped["reward"], stopped["epochs_done"]) == ("stopped", 0.05, 1)


def test_a_trial_ray_gave_up_on_is_stored_with_rays_reason(tmp_path):
    from nas.interrupt import StopRequest
    from nas.searcher import ControllerSearcher, TrialErrors

    searcher = ControllerSearcher(config(tmp_path, "controller=random"), {}, StopRequest())
    searcher.suggest("t0")
    searcher.on_trial_complete("t0", {"final": False, "ap": 0.1}, error=True)
    assert searcher.runtime.store.count_trials() == 0  # waits for the reason
    error_file = tmp_path / "error.txt"
    error_file.write_text("Traceback ...\nray.exceptions.ActorDiedError: The actor died unexpectedly\n")
    TrialErrors(searcher).on_trial_error(0, [], type("T", (), {"trial_id": "t0", "error_file": str(error_file)})())
    [row] = searcher.runtime.store.trials()
    assert row["status"] == "error" and row["error"] == "Ray: ray.exceptions.ActorDiedError: The actor died unexpectedly"
    searcher.close()


def test_an_unwritable_store_stops_the_search_with_its_reason(tmp_path):
    from nas.interrupt import StopRequest
    from nas.searcher import ControllerSearcher
    from nas.store import StoreError

    request = StopRequest()
    searcher = ControllerSearcher(config(tmp_path, "controller=random"), {}, request)
    searcher.suggest("t0")
    searcher.runtime.store._conn.execute("PRAGMA query_only = 1")  # every write fails now, as on a full disk
    searcher.on_trial_complete("t0", ok(0.2))
    assert isinstance(request.error, StoreError) and request.requested
    assert searcher.suggest("t1") == "FINISHED"
    searcher.close()


@pytest.mark.parametrize("name", ["ppo", "evolution", "random"])
def test_a_new_driver_suggests_the_unstored_proposals_again_first(tmp_path, name):
    cfg = config(tmp_path, f"controller={name}")
    rt = SearchRuntime(cfg)
    handed = [rt.suggest(f"t{k}") for k in range(4)]
    rt.complete("t1", ok(0.1), False)
    rt.complete("t3", ok(0.2), False)
    before = {p["proposal_index"]: p for p in rt.store.pending_proposals()}
    rt.store.close()  # the driver dies with t0 and t2 in flight

    again = SearchRuntime(cfg)
    assert again.wanted() == 6 - 2 and [old for old, _ in again.requeue] == ["t0", "t2"]
    assert again.suggest("n1") == handed[0] and again.suggest("n2") == handed[2]  # same index and spec
    assert again.store.proposal("n1")["meta"] == before[0]["meta"]  # controller meta kept (RL log-probs)
    assert again.store.proposal("t0") is None and again.store.pending_proposals()[0]["trial_id"] == "n1"
    fresh = again.suggest("n3")
    assert fresh["proposal_index"] == 4 and fresh["spec"] not in [h["spec"] for h in handed]
    assert again.complete("n2", ok(0.3), False)["proposal_index"] == 2


def test_unfinished_trials_are_not_stored_while_stopping(tmp_path):
    rt = SearchRuntime(config(tmp_path, "controller=random"))
    for k in range(3):
        rt.suggest(f"t{k}")
    assert rt.complete("t0", epoch_report(0.05), False, stopping=True) is None
    assert rt.complete("t1", None, True, stopping=True) is None  # a worker killed by the same signal
    assert rt.complete("t2", ok(0.4), False, stopping=True)["status"] == "ok"  # finished just in time
    assert [p["trial_id"] for p in rt.store.pending_proposals()] == ["t0", "t1"]
    assert rt.store.count_trials() == 1 and rt.wanted() == 6 - 1


@pytest.mark.parametrize("name", ["ppo", "evolution", "random"])
def test_rebuilt_controller_equals_the_uninterrupted_one(tmp_path, name):
    cfg = config(tmp_path, f"controller={name}", "controller.options={}" if name == "random" else "seed=0")
    rt = SearchRuntime(cfg)
    for k in range(5):
        rt.suggest(f"t{k}")
        rt.complete(f"t{k}", ok(0.1 * (k % 3)), False)
    rt.store.close()
    rebuilt = SearchRuntime(cfg)  # checkpoint after 4 rewards + feedback of row 5
    assert rebuilt.fed == 5
    assert rebuilt.controller.state_dict() == rt.controller.state_dict()
    assert rebuilt.controller.propose().decisions == rt.controller.propose().decisions
    with ResultsStore.open_readonly(cfg.db_path) as store:
        assert store.latest_checkpoint()["trials_fed"] == 4


def test_asha_stops_on_epoch_reports_and_fifo_is_none(tmp_path):
    from ray.tune.schedulers import ASHAScheduler

    from nas.search import build_scheduler

    cfg = config(tmp_path, "scheduler=asha", "scheduler.grace_period=2", "scheduler.reduction_factor=3")
    scheduler = build_scheduler(cfg)
    assert isinstance(scheduler, ASHAScheduler)
    # epochs report iterations 1..epochs; the final summary is iteration epochs + 1 and must get through
    assert (scheduler._time_attr, scheduler._metric, scheduler._max_t) == (
        "training_iteration",
        "ap",
        cfg.proxy.epochs + 1,
    )
    assert build_scheduler(config(tmp_path)) is None


def test_the_default_16_trial_store_stays_small(tmp_path):
    from nas.store import KEEP_CHECKPOINTS

    cfg = SearchConfig.from_dict(compose_config([f"run.dir={tmp_path}", "proxy=smoke"]))  # ppo, 16 trials, every 4
    rt = SearchRuntime(cfg)
    for k in range(cfg.trials):
        rt.suggest(f"t{k}")
        rt.complete(f"t{k}", ok(0.01 * (k % 5)), False)
    saved = rt.store.latest_checkpoint()
    rt.store.close()
    assert saved["trials_fed"] == 16 and saved["state"] == rt.controller.state_dict()  # bytes round trip exactly
    with ResultsStore.open_readonly(cfg.db_path) as store:
        assert len(store._query("SELECT seq FROM checkpoints")) == KEEP_CHECKPOINTS
    assert os.path.getsize(cfg.db_path) <= 5_000_000
