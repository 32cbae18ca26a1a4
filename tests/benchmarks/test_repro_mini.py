"""Mini-reproduction: the claim's verdict from exact numbers, and a quick end-to-end run (a real
Ray search on the smoke tier, retraining, figures) that writes its JSON and stores its retrains."""

import json
import sqlite3

import pytest


@pytest.fixture(scope="module")
def repro(load_benchmark):
    return load_benchmark("repro_mini")


def _arch(aps, flops):
    mean = sum(aps) / len(aps)
    sd = (sum((a - mean) ** 2 for a in aps) / (len(aps) - 1)) ** 0.5
    return {"ap": aps, "ap_mean": mean, "ap_sd": sd, "flops": flops}


def test_verdict_needs_two_standard_errors_and_fewer_flops(repro):
    table = {"found": _arch([0.30, 0.32, 0.34], 90), "base": _arch([0.20, 0.21, 0.22], 100),
             "close": _arch([0.29, 0.31, 0.33], 100), "big": _arch([0.10, 0.11, 0.12], 80)}
    clear = repro.verdict(table, "found", "base")
    assert clear["claim"] == "holds" and clear["ap_diff"] == pytest.approx(0.11)
    assert clear["ap_diff_se"] == pytest.approx((0.02**2 / 3 + 0.01**2 / 3) ** 0.5) and clear["flops_ratio"] == 0.9
    assert repro.verdict(table, "found", "close")["claim"] == "not separated from noise"
    assert repro.verdict(table, "found", "big")["claim"] == "does not hold"  # more FLOPs


def test_quick_run_end_to_end(tmp_path, run_benchmark):
    proc = run_benchmark("repro_mini", "--quick", "--out", str(tmp_path), "--run-dir", str(tmp_path / "run"),
                         "--figures", str(tmp_path / "figures"))
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads((tmp_path / "repro_mini.json").read_text())
    assert result["search"]["trials"] == 2 and len(result["found"]) == 1
    winner = f"found-1 ({result['found'][0]['trial_id']})"
    assert set(result["per_arch"]) == {winner, "r50-sd", "r50-fpn"}
    assert len(result["runs"]) == 3 * 2 and {r["epochs"] for r in result["runs"]} == {2}
    assert [v["baseline"] for v in result["verdicts"]] == ["r50-sd", "r50-fpn"]
    with sqlite3.connect(tmp_path / "run" / "search.db") as db:
        seeds = sorted(r[0] for r in db.execute("SELECT seed FROM retrains"))
    assert seeds == [1, 2]  # the smoke tier's seed 0, plus 1..2
    names = {p.name for p in (tmp_path / "figures").iterdir()}
    assert {"reward.svg", "reward.png", "ap_vs_flops.svg", "winner_vs_r50-sd.svg"} <= names


def test_trainings_are_reused_only_from_the_same_resolved_tier(repro, tmp_path, load_benchmark):
    fidelity = load_benchmark("proxy_fidelity")
    settings = {"tier": ["proxy=cpu"], "long_epochs": 8, "resolved": fidelity.resolved_tier(["proxy=cpu"])}
    run = {"arch": "r50-sd", "seed": 1, "epochs": 8, "status": "ok", "ap": 0.01}
    path = tmp_path / "proxy_fidelity.json"
    path.write_text(json.dumps({"settings": settings, "runs": [run]}))
    assert repro.reusable(path, settings) == {("r50-sd", 1, 8): run}
    changed = {**settings, "resolved": fidelity.resolved_tier(["proxy=cpu", "proxy.image_size=96"])}
    assert repro.reusable(path, changed) == {}  # same tier name, another tier file: nothing reused
    path.write_text(json.dumps({"settings": {"tier": ["proxy=cpu"]}, "runs": [run]}))
    assert repro.reusable(path, settings) == {}  # recorded before the resolved configs were


def _study_training(arch: str, seed: int, proxy: dict, data: dict, ap: float, status: str = "ok") -> dict:
    levers = {"raw/0.02/relative": {"ap": ap - 0.01}, "precise60/0.02/relative": {"ap": ap, "aps": 0.03}}
    return {"key": f"confirm/s/{arch}/seed{seed}", "arch": arch, "seed": seed, "epochs": 12, "status": status,
            "final": levers, "flops": 10, "params": 5, "train_seconds": 1.0,
            "provenance": {"proxy": proxy, "data": data}}


def test_study_trainings_count_as_the_tiers_when_trained_alike(repro, tmp_path, load_benchmark):
    """A proxy-design training made with the tier's training configuration (another tier name, no
    precise BN while training) is reused and scored with the tier's own levers; one with another
    input size, or failed, is not."""
    fidelity = load_benchmark("proxy_fidelity")
    resolved = fidelity.resolved_tier(["proxy=repro"])
    settings = {"tier": ["proxy=repro"], "long_epochs": 12, "resolved": resolved}
    as_trained = {**resolved["proxy"], "tier": "cpu", "precise_bn_batches": 0, "seed": 1, "num_threads": 1}
    as_trained.pop("precise_bn_epochs")  # older study rows lack the key
    other_size = {**as_trained, "image_size": 224}
    study = {"trainings": [_study_training("r50-sd", 1, as_trained, resolved["data"], 0.10),
                           _study_training("r50-sd", 2, other_size, resolved["data"], 0.20),
                           _study_training("r50-fpn", 1, as_trained, resolved["data"], 0.30, status="error")]}
    path = tmp_path / "proxy_design.json"
    path.write_text(json.dumps(study))
    runs = repro.reusable(path, settings)
    assert list(runs) == [("r50-sd", 1, 12)]
    assert runs[("r50-sd", 1, 12)]["ap"] == 0.10 and runs[("r50-sd", 1, 12)]["aps"] == 0.03  # precise60/0.02/relative
    assert runs[("r50-sd", 1, 12)]["reused_from"] == "proxy_design:confirm/s/r50-sd/seed1"


def test_a_cut_short_runs_own_trainings_count_as_trained_here(repro, tmp_path):
    """A rerun after the retraining was cut short: its own stored trainings are taken as they are
    (so they still go to the run's retrains table), other benchmarks' are marked reused, nothing
    trains twice."""
    settings = {"seeds": 2, "long_epochs": 3, "tier": ["proxy=smoke"]}
    own = {"arch": "a", "seed": 1, "epochs": 3, "status": "ok", "ap": 0.2}
    other = {"arch": "a", "seed": 2, "epochs": 3, "status": "ok", "ap": 0.3}
    runs = repro.retrain_all(settings, {"a": None}, {("a", 2, 3): other}, tmp_path, {("a", 1, 3): own})
    assert runs == [own, {**other, "reused": True}]
    assert not (tmp_path / "repro_mini.json").exists()  # nothing newly trained, nothing to write


def test_a_record_made_before_a_setting_was_added_still_matches(load_benchmark):
    fidelity = load_benchmark("proxy_fidelity")
    wanted = fidelity.resolved_tier(["proxy=cpu"])
    older = {"proxy": dict(wanted["proxy"]), "data": dict(wanted["data"])}
    del older["proxy"]["area_ranges"], older["data"]["num_workers"]  # keys at their defaults, recorded before them
    assert fidelity.same_tier(older, wanted)
    assert not fidelity.same_tier({**older, "proxy": {**older["proxy"], "image_size": 64}}, wanted)
    assert not fidelity.same_tier({**older, "proxy": {**older["proxy"], "retired_key": 1}}, wanted)
    assert not fidelity.same_tier(None, wanted)
