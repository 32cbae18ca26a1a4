"""A run folder written before dead blocks were pruned (committed fixture, tests/nas/fixtures)
keeps working in show, plot, report, replay and resume; its rows keep their stored FLOPs and
parameters, shown as counted before pruning where their spec has blocks that feed no output."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys

import pytest

from nas.cli import main
from nas.inspect.leaderboard import BEFORE_PRUNING_NOTE
from nas.search import run_search
from nas.store import ResultsStore
from search_space.reachability import dead_features
from search_space.serialize import spec_from_dict

FIXTURE = os.path.join(os.path.dirname(__file__), "fixtures", "run_before_pruning")
WITH_DEAD_BLOCKS = {"097d1a56", "805c0c6e", "e292f632"}  # trials whose spec has dead blocks


@pytest.fixture()
def old_run(tmp_path):
    """A copy of the fixture run folder (the verbs may add WAL files next to the store)."""
    folder = tmp_path / "old_run"
    shutil.copytree(FIXTURE, folder)
    return folder


def stored_counts(folder) -> dict[str, tuple[int, int]]:
    with sqlite3.connect(folder / "search.db") as conn:
        return {t: (f, p) for t, f, p in conn.execute("SELECT trial_id, flops, params FROM trials")}


def test_show_keeps_stored_counts_and_marks_those_before_pruning(capsys, old_run):
    before = stored_counts(old_run)
    assert main(["show", str(old_run), "--json", "--top", "6"]) == 0
    rows = json.loads(capsys.readouterr().out)["leaderboard"]
    assert {r["trial_id"] for r in rows if r["flops_before_pruning"]} == WITH_DEAD_BLOCKS
    assert {r["trial_id"]: (r["flops"], r["params"]) for r in rows} == before
    assert main(["show", str(old_run), "--top", "6"]) == 0
    text = capsys.readouterr().out
    assert text.count("*") == 2 * len(WITH_DEAD_BLOCKS) + 1 and BEFORE_PRUNING_NOTE in text


def test_plot_and_report_read_the_old_store(capsys, old_run, tmp_path):
    assert main(["plot", str(old_run), "-o", str(tmp_path / "plots")]) == 0
    assert 'id="counted-before-pruning"' in (tmp_path / "plots" / "ap_vs_flops.svg").read_text()
    assert main(["report", str(old_run), "-o", str(tmp_path / "report.html")]) == 0
    assert BEFORE_PRUNING_NOTE in (tmp_path / "report.html").read_text()
    capsys.readouterr()


def test_replay_of_the_old_run_keeps_the_records_counting(old_run, tmp_path):
    from nas.config import SearchConfig, compose_config

    overrides = ["proxy=replay", f"replay.from={old_run}", f"run.dir={tmp_path / 'replayed'}", "controller=random",
                 "seed=3", "trials=6"]
    cfg = SearchConfig.from_dict(compose_config(overrides))
    run_search(cfg)
    with ResultsStore.open_readonly(cfg.db_path) as store:
        rows = store.trials()
    assert len(rows) == 6 and all(r["replay"] for r in rows)
    for row in rows:  # a replayed row copies its record's counts, so it keeps their counting
        assert row["flops_pruned"] is None
        assert row["flops_before_pruning"] == bool(dead_features(spec_from_dict(row["spec"])))
    assert any(r["flops_before_pruning"] for r in rows)


def test_resume_continues_the_old_run(old_run, tmp_path, ray_env):
    with sqlite3.connect(old_run / "search.db") as conn:
        config = json.loads(conn.execute("SELECT value FROM meta WHERE key = 'config'").fetchone()[0])
        config["trials"], config["data"]["cache_dir"] = 7, str(tmp_path / "cache")
        conn.execute("UPDATE meta SET value = ? WHERE key = 'config'", (json.dumps(config),))
    before = stored_counts(old_run)
    command = [sys.executable, "-m", "nas", "search", f"resume={old_run}"]
    done = subprocess.run(command, env={**os.environ, **ray_env}, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    with ResultsStore.open_readonly(str(old_run / "search.db")) as store:
        rows = store.trials()
    assert len(rows) == 7 and {r["trial_id"]: (r["flops"], r["params"]) for r in rows[:6]} == before
    assert [r["flops_pruned"] for r in rows] == [None] * 6 + [1]
    assert {r["trial_id"] for r in rows if r["flops_before_pruning"]} == WITH_DEAD_BLOCKS
