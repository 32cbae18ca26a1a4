"""Ground-truth table: what is trained (missing seeds only, first seeds first), what is reused
(the mini-reproduction's retrainings under the table's names), and a quick end-to-end run that
writes its JSON and run folder, then continues without training again."""

import json
import sqlite3

import pytest


@pytest.fixture(scope="module")
def gt(load_benchmark):
    return load_benchmark("ground_truth")


def test_missing_jobs_fill_first_seeds_of_every_architecture_first(gt):
    settings = {"seeds": 2, "tier": ["proxy=smoke"], "resolved": {"proxy": {"epochs": 3}}}
    archs = {"a": {"spec": None}, "b": {"spec": None}, "c": {"spec": None}}
    have = {("a", 0, 3): {"status": "ok"}, ("a", 1, 3): {"status": "ok"}, ("b", 4, 3): {"status": "ok"},
            ("c", 0, 3): {"status": "nan_loss"}, ("c", 1, 2): {"status": "ok"}}
    jobs = gt.missing_jobs(archs, have, settings)
    # b has one seed (4): one more, the lowest free; c's failed and other-epochs runs do not count
    assert [(j["arch"], j["seed"]) for j in jobs] == [("b", 0), ("c", 0), ("c", 1)]
    assert {j["epochs"] for j in jobs} == {3}


def test_mini_reproduction_retrainings_take_the_search_names(gt, tmp_path, load_benchmark):
    fidelity = load_benchmark("proxy_fidelity")
    settings = {"tier": ["proxy=smoke"], "resolved": fidelity.resolved_tier(["proxy=smoke"])}
    runs = [{"arch": "found-1 (abc123)", "seed": 1, "epochs": 1, "status": "ok", "ap": 0.2},
            {"arch": "r50-sd", "seed": 1, "epochs": 1, "status": "ok", "ap": 0.1}]
    path = tmp_path / "repro_mini.json"
    path.write_text(json.dumps({"settings": settings, "runs": runs}))
    found = gt.mini_reproduction_trainings(path, settings)
    assert set(found) == {("search-abc123", 1, 1), ("r50-sd", 1, 1)}
    assert found[("search-abc123", 1, 1)]["reused_from"] == "repro_mini:found-1 (abc123)"


def test_mean_curve_averages_the_runs_that_have_each_epoch(gt):
    runs = [{"curve": [{"epoch": 1, "ap": 0.1}, {"epoch": 2, "ap": 0.3}]}, {"curve": [{"epoch": 2, "ap": 0.5}]},
            {"curve": []}]
    assert gt.mean_curve(runs, 3) == [0.1, 0.4, None]


def test_quick_run_end_to_end_and_resume(tmp_path, run_benchmark):
    args = ("ground_truth", "--quick", "--out", str(tmp_path), "--run-dir", str(tmp_path / "run"),
            "--search-run", str(tmp_path / "no-search"))
    cut = run_benchmark(*args, "--max-trainings", "5")
    assert cut.returncode == 0, cut.stderr[-3000:]
    assert "7 trainings still missing" in cut.stdout
    first = json.loads((tmp_path / "ground_truth.json").read_text())
    assert len(first["runs"]) == 5 and first["cost"]["still_missing"] == 7
    # the first seed of all six architectures would come first; five of them are trained
    assert sorted(r["seed"] for r in first["runs"]) == [0] * 5
    proc = run_benchmark(*args)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "7 to train now; 0 to estimate" in proc.stdout
    result = json.loads((tmp_path / "ground_truth.json").read_text())
    table = result["table"]
    assert set(table) == {"r50-sd", "r0-sp53", "spinenet-49", "r50-fpn", "resnet50-s0-0", "r0-sp53-s0-0"}
    assert all(row["seeds"] == [0, 1] for row in table.values())
    assert all(len(row["curve_ap"]) == 2 and row["curve_runs"] == 2 for row in table.values())
    estimates = table["spinenet-49"]["estimates"]
    assert {"params", "flops", "grad_norm", "snip", "synflow", "naswot"} <= set(estimates)
    assert estimates["params"] == table["spinenet-49"]["params"]
    with sqlite3.connect(tmp_path / "run" / "search.db") as db:
        trials = dict(db.execute("SELECT trial_id, reward FROM trials"))
        retrains = db.execute("SELECT COUNT(*) FROM retrains").fetchone()[0]
    assert set(trials) == set(table) - {"r50-fpn"}  # the baseline has no decisions
    assert trials["spinenet-49"] == pytest.approx(table["spinenet-49"]["ap"])
    assert retrains == 2 * 5
