"""Failures are data, not retries: failing-trial kinds (exception, NaN loss, out of memory, an
exception before training) get the penalty and the search goes on; a driver killed (SIGKILL) or
stopped (SIGTERM) at ten points along two run folders resumes each time from the store to
exactly the requested number of trials, with no proposal lost, handed out twice or skipped, and
no stored trial trained again; a node that dies under a trial is retried by Ray.

One Ray test cluster per module (`ray.cluster_utils.Cluster`: a head without CPUs and two
2-CPU worker nodes); drivers started as subprocesses connect to it with cluster=ray. Faults and
waits come from the test trainable (`support/trial_hooks.py`), never from production code."""

import os
import signal
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from trial_hooks import WAIT_DIR_ENV, WAIT_S_ENV, Hooks, hooked_trainable

from nas.config import ConfigError
from nas.interrupt import EXIT_INTERRUPTED
from nas.ray_start import storage_location
from nas.search import run_search
from nas.store import ResultsStore

from .conftest import Driver, smoke_config, smoke_overrides, started_counts, wait_until

pytestmark = pytest.mark.ray


@pytest.fixture(scope="module")
def cluster(ray_env):
    import ray
    from ray.cluster_utils import Cluster

    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 0, "include_dashboard": False})
    nodes = [cluster.add_node(num_cpus=2) for _ in range(2)]
    cluster.wait_for_nodes()
    ray.init(address=cluster.address, log_to_driver=False)
    yield cluster, nodes
    ray.shutdown()
    cluster.shutdown()


def cluster_overrides(cluster, tmp_path):
    return cluster_overrides_at(cluster.address, tmp_path)


def cluster_overrides_at(address, tmp_path):
    return [
        "cluster=ray",
        f"cluster.address={address}",
        f"cluster.storage={tmp_path / 'storage'}",
        "cluster.gpus_per_trial=0",
        "cluster.max_failures=2",
    ]


def test_multi_node_cluster_needs_shared_storage(tmp_path, cache_dir):
    cfg = smoke_config(tmp_path, cache_dir, 1, 1, "cluster=ray")
    with pytest.raises(ConfigError, match="3 nodes but cluster.storage is not set"):
        storage_location(cfg, alive_nodes=3)
    assert storage_location(cfg, alive_nodes=1) == (str(tmp_path), "ray")


def test_failing_trial_kinds_are_data(cluster, tmp_path, cache_dir):
    """Fails without: `nas.trainable.report_trial`'s catch-all (the raising trials become Ray
    errors, retried, stored with Ray's reason), `failed_result`'s out-of-memory status (oom
    stored as error), `train_and_evaluate`'s NonFiniteLoss handling (nan_loss), or the failed
    statuses' penalty in `controller.reward.RewardRule.reward`."""
    cfg = smoke_config(
        tmp_path / "run", cache_dir, 4, 2, *cluster_overrides(cluster[0], tmp_path), "reward.failed_penalty=-0.5"
    )
    summary = run_search(cfg, trainable=hooked_trainable(Hooks(faults={0: "raise", 1: "nan", 2: "oom"})))
    with ResultsStore.open_readonly(cfg.db_path) as store:
        rows = {r["proposal_index"]: r for r in store.trials()}
    assert {k: rows[k]["status"] for k in rows} == {0: "error", 1: "nan_loss", 2: "oom", 3: "ok"}
    assert "RuntimeError: injected failure" in rows[0]["error"] and "OutOfMemoryError" in rows[2]["error"]
    assert [rows[k]["reward"] for k in (0, 1, 2)] == [-0.5, -0.5, -0.5]
    assert rows[3]["reward"] == rows[3]["ap"] >= 0.0 and summary["failed"] == 3


# (phase, signal) of each kill point, in a fixed order along a run folder; each driver resumes the
# run its predecessor left. Two such chains (ten kill points in all) run side by side.
# start-up: as soon as the driver printed its data line (before Ray); mid-trial: trials held in
# training by the wait hook; after-commit: right after the store gained a row; closing: once every
# trial is stored (the driver writes the best spec and prints its report).
CHAINS = [
    [("start-up", signal.SIGKILL), ("mid-trial", signal.SIGTERM), ("after-commit", signal.SIGKILL),
     ("mid-trial", signal.SIGKILL), ("closing", signal.SIGKILL)],
    [("start-up", signal.SIGTERM), ("after-commit", signal.SIGTERM), ("mid-trial", signal.SIGKILL),
     ("after-commit", signal.SIGKILL), ("closing", signal.SIGKILL)],
]
CHAIN_TRIALS = 6


def has_config(db: str) -> bool:
    """True once a search recorded its config (before that, a user starts it again, not resumes)."""
    if ResultsStore.is_blank(db):  # killed before its schema was committed
        return False
    with ResultsStore.open_readonly(db) as store:
        return bool(store.config())


def stored_count(db: str) -> int:
    """Trials stored so far (0 while the store has no schema yet; its creation is one transaction)."""
    return 0 if ResultsStore.is_blank(db) else len(store_state(db)[0])


def store_state(db: str) -> tuple[list[dict], list[dict]]:
    with ResultsStore.open_readonly(db) as store:
        return store.trials(), store.pending_proposals()


def kill_at(phase: str, driver: Driver, db: str, markers) -> None:
    """Wait for the moment `phase` names."""
    stored = stored_count(db)
    begun = sum(started_counts(markers).values())
    conditions = {
        "start-up": lambda: "data:" in driver.stdout,
        "mid-trial": lambda: sum(started_counts(markers).values()) > begun,
        "after-commit": lambda: stored_count(db) > stored,
        "closing": lambda: stored_count(db) == CHAIN_TRIALS,
    }
    wait_until(conditions[phase], 180, f"the {phase} kill point", poll_s=0.02)


def run_chain(kill_points, folder, cache_dir, cluster_address) -> None:
    """Kill or stop one run's drivers at `kill_points`, then resume it to the end; assert all along."""
    run_dir, markers = folder / "run", folder / "markers"
    markers.mkdir(parents=True)
    db = str(run_dir / "search.db")
    env = {**os.environ, WAIT_DIR_ENV: str(markers), WAIT_S_ENV: "300"}
    overrides = [*cluster_overrides_at(cluster_address, folder)]
    first_args = smoke_overrides(run_dir, cache_dir, CHAIN_TRIALS, 2, *overrides)
    snapshots = []  # (stored proposal indexes, start counts) right after each kill
    handed_out = {}  # proposal index -> spec of every proposal seen pending after a kill
    for k, (phase, signum) in enumerate(kill_points):
        release = markers / "release"
        release.unlink(missing_ok=True) if phase == "mid-trial" else release.touch()
        driver = Driver([f"resume={run_dir}"] if has_config(db) else first_args, env, folder, f"driver-{k}")
        kill_at(phase, driver, db, markers)
        driver.signal(signum)
        status = driver.wait()
        expected = {-signal.SIGKILL, 0} if phase == "closing" else {EXIT_INTERRUPTED, -signal.SIGKILL}
        assert status in expected, (k, phase, status, driver.stdout[-1000:], driver.stderr[-2000:])
        if signum == signal.SIGTERM:
            assert status == EXIT_INTERRUPTED and "Traceback" not in driver.stderr, driver.stderr[-2000:]
        rows, pending = ([], []) if ResultsStore.is_blank(db) else store_state(db)
        indexes = [r["proposal_index"] for r in rows] + [p["proposal_index"] for p in pending]
        assert len(rows) <= CHAIN_TRIALS and len(indexes) == len(set(indexes))  # nothing stored or handed out twice
        assert sorted(indexes) == list(range(len(indexes)))  # no gap among handed-out proposals
        snapshots.append(({r["proposal_index"] for r in rows}, started_counts(markers)))
        handed_out.update({p["proposal_index"]: p["spec"] for p in pending})

    (markers / "release").touch()
    final = Driver([f"resume={run_dir}"], env, folder, "driver-final")
    assert final.wait() == 0, final.stderr[-2000:]
    rows, pending = store_state(db)
    assert len(rows) == CHAIN_TRIALS and pending == [] and {r["status"] for r in rows} == {"ok"}
    assert sorted(r["proposal_index"] for r in rows) == list(range(CHAIN_TRIALS))
    assert all(r["spec"] == handed_out[r["proposal_index"]] for r in rows if r["proposal_index"] in handed_out)
    starts = started_counts(markers)
    for stored, counts in snapshots:  # a stored trial never begins training again
        assert all(starts[index] == counts[index] for index in stored)
    assert f"search finished: {CHAIN_TRIALS} trials" in final.stdout


def test_resume_after_kills_at_ten_points(cluster, tmp_path, cache_dir):
    """Fails without: `SearchRuntime._handed_out_never_stored` (a proposal in flight at a kill is
    lost or a new index replaces it: a gap or a spec that changed), or the store's commit before
    feedback with UNIQUE trial ids (a stored trial trained again)."""
    with ThreadPoolExecutor(len(CHAINS)) as pool:
        chains = [pool.submit(run_chain, points, tmp_path / f"chain{n}", cache_dir, cluster[0].address)
                  for n, points in enumerate(CHAINS)]
        for chain in chains:
            chain.result()  # re-raises a chain's failed assertion here


def test_a_failure_outside_the_training_code_is_stored_not_retried(cluster, tmp_path, cache_dir):
    """Fails without `nas.trainable.report_trial`'s catch-all around the whole trial: the
    TimeoutError raised before training would reach Ray, which retries the trial (max_failures=2:
    it starts 3 times) and stores Ray's reason instead."""
    markers = tmp_path / "markers"
    markers.mkdir()
    # no release marker ever appears and the deadline is 0 s, so the trial raises before training
    hooks = Hooks(wait_dir=str(markers), wait_s=0.0)
    cfg = smoke_config(tmp_path / "run", cache_dir, 1, 1, *cluster_overrides(cluster[0], tmp_path))
    run_search(cfg, trainable=hooked_trainable(hooks))
    with ResultsStore.open_readonly(cfg.db_path) as store:
        [row] = store.trials()
    assert row["status"] == "error" and row["error"].startswith("TimeoutError: ") and "release" in row["error"]
    assert started_counts(markers) == {0: 1}  # cluster.max_failures=2, yet never retried


def test_node_loss_retries_the_trial(cluster, tmp_path, cache_dir):
    """Fails without `tune.FailureConfig(max_failures=cluster.max_failures)` in
    `nas.search.make_tuner`: the trial on the lost node would be stored as a Ray error, not
    retried on the surviving node."""
    ray_cluster, nodes = cluster
    marker_dir = tmp_path / "markers"
    marker_dir.mkdir()
    hooks = Hooks(wait_dir=str(marker_dir), wait_s=120.0)
    cfg = smoke_config(tmp_path / "run", cache_dir, 1, 1, *cluster_overrides(ray_cluster, tmp_path))
    started = marker_dir / "started-0"

    def kill_the_trials_node():
        node_id = wait_until(lambda: started.exists() and started.read_text().strip(), 120, "the trial to start")
        victim = next(n for n in nodes if n.node_id == node_id.splitlines()[0])
        ray_cluster.remove_node(victim)
        (marker_dir / "release").touch()

    killer = threading.Thread(target=kill_the_trials_node, daemon=True)
    killer.start()
    run_search(cfg, trainable=hooked_trainable(hooks))
    killer.join(timeout=5)
    runs_on = started.read_text().split()
    assert len(runs_on) == 2 and runs_on[0] != runs_on[1]  # retried on the surviving node
    with ResultsStore.open_readonly(cfg.db_path) as store:
        rows = store.trials()
    assert [r["status"] for r in rows] == ["ok"]
