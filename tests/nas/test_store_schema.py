"""The results store's schema version: new stores carry it, a store of the previous format
(version 0, committed fixture `fixtures/run_schema_0`) opens in every verb and is upgraded in one
step by a writer, a newer unknown version is refused with one line (exit 2), and every stored
training (trial row, retrain row) carries its provenance."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3

import pytest

from nas.cli import main
from nas.store import ResultsStore, StoreError
from nas.store_schema import SCHEMA_VERSION
from proxy_trainer.provenance import settings_hash, training_provenance

FIXTURE = os.path.join(os.path.dirname(__file__), "fixtures", "run_schema_0")
TRIALS = {"fe086ebd", "43146399", "de644050", "bfed0362"}


@pytest.fixture()
def old_run(tmp_path):
    """A copy of the version-0 run folder (verbs may add WAL files, writers upgrade it)."""
    folder = tmp_path / "old_run"
    shutil.copytree(FIXTURE, folder)
    return folder


def user_version(folder) -> int:
    conn = sqlite3.connect(f"file:{os.path.join(folder, 'search.db')}?mode=ro", uri=True)
    try:
        return conn.execute("PRAGMA user_version").fetchone()[0]
    finally:
        conn.close()


def test_the_fixture_is_the_previous_format():
    assert user_version(FIXTURE) == 0


VERBS = [
    ["show", "{run}"],
    ["show", "{run}", "--json"],
    ["plot", "{run}", "-o", "{tmp}/plots"],
    ["report", "{run}", "-o", "{tmp}/report.html"],
    ["compare", "{run}", "{run}"],
    ["export", "{run}:best", "--format", "tf"],
    ["draw", "{run}:best", "-o", "{tmp}/best.svg"],
    ["info", "{run}:fe086ebd"],
    ["validate", "{run}:de644050"],
]


@pytest.mark.parametrize("argv", VERBS, ids=[" ".join(v[:2]) for v in VERBS])
def test_every_reading_verb_opens_the_previous_format(old_run, tmp_path, capsys, argv):
    assert main([a.format(run=old_run, tmp=tmp_path) for a in argv]) == 0, capsys.readouterr().err
    assert user_version(old_run) == 0  # readers never write


def test_a_writer_upgrades_the_previous_format_in_place(old_run):
    ResultsStore(str(old_run / "search.db")).close()
    assert user_version(old_run) == SCHEMA_VERSION
    with ResultsStore.open_readonly(str(old_run / "search.db")) as store:
        rows = store.trials()
    assert {r["trial_id"] for r in rows} == TRIALS and all(r["provenance"] is None for r in rows)


def test_replay_of_the_previous_format(old_run, tmp_path):
    from nas.config import SearchConfig, compose_config
    from nas.search import run_search

    cfg = SearchConfig.from_dict(compose_config(["proxy=replay", f"replay.from={old_run}", "controller=random",
                                                 f"run.dir={tmp_path / 'replayed'}", "trials=3"]))
    run_search(cfg)
    with ResultsStore.open_readonly(cfg.db_path) as store:
        assert store.count_trials() == 3 and all(r["replay"] for r in store.trials())
    assert user_version(tmp_path / "replayed") == SCHEMA_VERSION


@pytest.mark.parametrize("argv", [["show", "{run}"], ["export", "{run}:best"], ["search", "resume={run}"]])
def test_a_newer_version_is_refused_with_one_line(old_run, capsys, argv):
    with sqlite3.connect(old_run / "search.db") as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    assert main([a.format(run=old_run) for a in argv]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"schema version {SCHEMA_VERSION + 1}, newer than this" in err
    with pytest.raises(StoreError, match="upgrade spinenet-nas"):
        ResultsStore(str(old_run / "search.db"))


def test_new_stores_carry_the_version_and_trainings_their_provenance(tmp_path):
    store = ResultsStore(str(tmp_path / "search.db"))
    provenance = training_provenance({"epochs": 2, "num_threads": 1}, {"kind": "synthetic"})
    store.commit_trial({"trial_id": "t0", "proposal_index": 0, "status": "ok", "provenance": provenance})
    store.add_retrain("t0", 1, "smoke", {"status": "ok", "ap": 0.1}, provenance)
    store.close()
    assert user_version(tmp_path) == SCHEMA_VERSION
    with ResultsStore.open_readonly(str(tmp_path / "search.db")) as store:
        assert store.trial("t0")["provenance"] == provenance == store.retrains("t0")[0]["provenance"]
    assert set(provenance) == {"git_commit", "git_dirty", "settings_hash", "packages"}
    assert {"torch", "torchvision", "ray", "numpy", "pycocotools", "spinenet-nas"} <= set(provenance["packages"])
    assert json.loads(json.dumps(provenance)) == provenance


def test_the_settings_hash_ignores_where_a_training_runs_not_what_it_trains():
    base = settings_hash({"epochs": 2, "num_threads": 1}, {"kind": "synthetic", "cache_dir": "/a"})
    assert base == settings_hash({"epochs": 2, "num_threads": 4}, {"kind": "synthetic", "cache_dir": "/b"})
    assert base != settings_hash({"epochs": 3, "num_threads": 1}, {"kind": "synthetic", "cache_dir": "/a"})
