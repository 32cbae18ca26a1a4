"""The results store: UNIQUE trial ids, WAL, row round trips, best/leaderboard/summary, checkpoints,
proposals, read-only access while a writer is open, and RUN:TRIAL sources through the CLI."""

import sqlite3

import pytest

from nas.cli import main
from nas.store import ResultsStore, StoreError
from search_space import SearchSpace
from search_space.serialize import spec_to_dict

SPACE = SearchSpace.from_seed("resnet50")


def row(trial_id, k, status="ok", reward=None, ap=None):
    decisions = SPACE.sample(seed=7, k=k)
    spec = spec_to_dict(SPACE.decode(decisions, name=f"cand-{k}"))
    return {
        "trial_id": trial_id,
        "proposal_index": k,
        "decisions": list(decisions),
        "spec": spec,
        "status": status,
        "reward": reward,
        "ap": ap,
        "flops": 1000 + k,
        "params": 10 + k,
        "error": None,
    }


@pytest.fixture
def store(tmp_path):
    s = ResultsStore(str(tmp_path / "run" / "search.db"))
    yield s
    s.close()


def fill(store):
    store.set_meta("config", {"trials": 4, "space": {"seed": "resnet50"}})
    for tid, k, status, reward, ap in [
        ("a", 0, "ok", 0.10, 0.10),
        ("b", 1, "nan_loss", 0.0, None),
        ("c", 2, "ok", 0.30, 0.30),
        ("d", 3, "stopped", 0.20, 0.20),
    ]:
        assert store.commit_trial(row(tid, k, status, reward, ap)) is True


def test_wal_and_unique_trial_ids(store):
    fill(store)
    assert store._conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store.commit_trial(row("a", 9, reward=0.9, ap=0.9)) is False  # same id: ignored, not counted twice
    assert store.count_trials() == 4
    assert store.trial("a")["reward"] == pytest.approx(0.10)


def test_rows_round_trip_in_feedback_order(store):
    fill(store)
    rows = store.trials()
    assert [r["trial_id"] for r in rows] == ["a", "b", "c", "d"]
    assert rows[2]["decisions"] == list(SPACE.sample(seed=7, k=2))
    assert rows[2]["spec"]["name"] == "cand-2" and rows[2]["flops"] == 1002 and rows[1]["ap"] is None
    assert rows[0]["finished_at"].endswith("+00:00")


def test_best_leaderboard_summary(store):
    fill(store)
    assert store.best_trial()["trial_id"] == "c"
    assert store.trial_spec("best") == SPACE.decode(SPACE.sample(seed=7, k=2), name="cand-2")
    assert [r["trial_id"] for r in store.leaderboard(limit=3)] == ["c", "d", "a"]
    summary = store.summary()
    assert summary["trials"] == 4 and summary["requested"] == 4 and summary["failed"] == 1
    assert summary["statuses"] == {"ok": 2, "nan_loss": 1, "stopped": 1}
    assert (summary["best_trial"], summary["best_ap"]) == ("c", pytest.approx(0.30))


def test_unknown_trial_and_empty_best(store):
    with pytest.raises(StoreError, match="no successfully trained trial"):
        store.best_trial()
    fill(store)
    with pytest.raises(StoreError, match="no trial 'zz'.*known: a, b, c, d"):
        store.trial_spec("zz")


def test_checkpoints_and_pending_proposals(store):
    assert store.latest_checkpoint() is None and store.max_proposal_index() == -1
    store.save_checkpoint({"next_index": 2}, trials_fed=2)
    store.save_checkpoint({"next_index": 4}, trials_fed=4)
    assert store.latest_checkpoint()["state"] == {"next_index": 4}
    for k, tid in enumerate(["a", "b", "c"]):
        store.add_proposal(tid, k, SPACE.sample(seed=7, k=k), {"name": tid}, {"logp": [k]})
    store.add_proposal("a", 5, (), {}, {})  # ignored: already recorded
    store.commit_trial(row("b", 1, reward=0.1, ap=0.1))
    assert [p["trial_id"] for p in store.pending_proposals()] == ["a", "c"]
    assert store.proposal("c")["meta"] == {"logp": [2]} and store.max_proposal_index() == 2


def test_checkpoints_are_compact_bytes_two_kept_and_a_damaged_newest_falls_back(store):
    state = {
        "policy": {"__tensor__": [[0.5, -(2.0**-30)], [3.0, 2.0**100]], "dtype": "float32"},
        "step": 7,
        "ids": ["a"],
    }
    for fed in (4, 8, 12):
        store.save_checkpoint({**state, "fed": fed}, trials_fed=fed)
    rows = store._query("SELECT trials_fed, state FROM checkpoints ORDER BY seq")
    assert [r["trials_fed"] for r in rows] == [8, 12] and all(isinstance(r["state"], bytes) for r in rows)
    assert store.latest_checkpoint()["state"] == {**state, "fed": 12}  # float32 values back exactly
    store._conn.execute("UPDATE checkpoints SET state = X'00' WHERE trials_fed = 12")
    store._conn.commit()
    assert store.latest_checkpoint()["trials_fed"] == 8
    store._conn.execute("UPDATE checkpoints SET state = X'00'")
    store._conn.commit()
    with pytest.raises(StoreError, match="no controller checkpoint can be read"):
        store.latest_checkpoint()


def test_a_store_of_the_earlier_format_still_opens(tmp_path):
    db = str(tmp_path / "old" / "search.db")
    old = ResultsStore(db)  # then: checkpoints as JSON text, no unique proposal-index indexes
    old._conn.executescript("DROP INDEX trials_proposal_index; DROP INDEX proposals_proposal_index;")
    old._conn.execute(
        "INSERT INTO checkpoints (trials_fed, state, created_at) VALUES (4, ?, 'then')",
        ('{"next_index": 4, "w": {"__tensor__": [0.5], "dtype": "float32"}}',),
    )
    old._conn.commit()
    old.close()
    store = ResultsStore(db)
    assert store.latest_checkpoint()["state"] == {"next_index": 4, "w": {"__tensor__": [0.5], "dtype": "float32"}}
    store.save_checkpoint({"next_index": 8}, trials_fed=8)  # written as bytes from now on
    assert store.latest_checkpoint()["state"] == {"next_index": 8}
    indexes = {r["name"] for r in store._query("SELECT name FROM sqlite_master WHERE type = 'index'")}
    assert {"trials_proposal_index", "proposals_proposal_index"} <= indexes
    store.close()


def test_readonly_sees_commits_while_writer_is_open(store):
    fill(store)
    with ResultsStore.open_readonly(store.path) as reader:
        assert reader.count_trials() == 4
        store.commit_trial(row("e", 4, reward=0.5, ap=0.5))
        assert reader.count_trials() == 5 and reader.best_trial()["trial_id"] == "e"
        with pytest.raises(sqlite3.OperationalError):
            reader._conn.execute("DELETE FROM trials")


def test_retrains_recorded(store):
    fill(store)
    store.add_retrain("c", 1, "smoke", {"status": "ok", "ap": 0.25})
    store.add_retrain("a", 2, "smoke", {"status": "ok", "ap": 0.05})
    assert [(r["seed"], r["ap"]) for r in store.retrains("c")] == [(1, 0.25)]
    assert len(store.retrains()) == 2


def test_open_readonly_rejects_missing_and_foreign_files(tmp_path):
    with pytest.raises(StoreError, match="does not exist"), ResultsStore.open_readonly(str(tmp_path / "nope.db")):
        pass
    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE x (y)").connection.commit()
    with pytest.raises(StoreError, match="not a spinenet-nas results store"), ResultsStore.open_readonly(str(other)):
        pass


def test_run_trial_sources_in_cli(store, capsys):
    fill(store)
    run = store.path.rsplit("/", 1)[0]
    assert main(["validate", f"{run}:best"]) == 0
    valid, note = capsys.readouterr().out.splitlines()
    assert valid == "valid: cand-2 (15 blocks)"
    assert note.startswith("note: 3 of 15 blocks feed no output: blocks 4, 6, 7 (features 6, 8, 9)")
    assert main(["validate", f"{run}:zz"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no trial 'zz'" in err
