"""Proxy-design study: a quick screen stores every training with its levers, curve, weights and
provenance, and a rerun trains nothing; the evaluation levers leave the trained statistics as
they were; the summary's gaps and the paper-order flag are computed from the stored rows."""

import json

import pytest
import torch


def test_quick_screen_stores_levers_curves_weights_and_resumes(tmp_path, run_benchmark):
    args = ("--stage", "screen", "--quick", "--out", str(tmp_path), "--models", str(tmp_path / "models"))
    first = run_benchmark("proxy_design", *args)
    assert first.returncode == 0, first.stderr[-2000:]
    assert "0 of 4 trainings stored; 4 to train" in first.stdout and "[4/4] screen/q64/" in first.stdout
    study = json.loads((tmp_path / "proxy_design.json").read_text())
    rows = study["trainings"]
    assert sorted(r["arch"] for r in rows) == ["r0-sp53", "r50-fpn", "r50-sd", "spinenet-49"]
    row = next(r for r in rows if r["arch"] == "spinenet-49")
    assert row["status"] == "ok" and row["concurrent"] == 2 and row["provenance"]["proxy"]["seed"] == 0
    assert [p["epoch"] for p in row["curve"]] == [1, 2] and [p["images_seen"] for p in row["curve"]] == [16, 32]
    levers = {k for k in row["final"] if not k.endswith(("batches_used", "seconds"))}
    assert levers == {f"{bn}/{t}/{a}" for bn in ("raw", "precise15", "precise60") for t in ("0.02", "0.05")
                      for a in ("absolute", "relative")}
    assert row["final"]["precise60/batches_used"] == 2  # the 16 training images in batches of 8
    assert row["final"]["precise15/seconds"] > 0
    assert row["area_ranges"]["relative"] == "small < 3.2^2 px, medium < 9.6^2 px, large above (relative)"
    state = torch.load(row["weights"], weights_only=True)
    assert any(k.endswith("running_mean") for k in state)
    summary = study["summary"]["screen/q64"]
    assert set(summary["gaps"]["raw/0.02/absolute"]["minus_r50_fpn"]) == {"r0-sp53", "r50-sd", "spinenet-49"}
    assert (tmp_path / "proxy_design_curves.png").stat().st_size > 0
    second = run_benchmark("proxy_design", *args)
    assert second.returncode == 0 and "4 of 4 trainings stored; 0 to train" in second.stdout


@pytest.fixture(scope="module")
def study_train(load_benchmark):
    load_benchmark("common")  # puts benchmarks/ on sys.path for the study package
    from design_study import train

    return train


def test_trained_statistics_are_restored_after_the_levers(study_train):
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 1), torch.nn.BatchNorm2d(4))
    before = {k: v.clone() for k, v in model.state_dict().items()}
    with study_train.trained_statistics_kept(model):
        model.train()
        model(torch.randn(2, 3, 5, 5))
        assert not torch.equal(model[1].running_mean, before["1.running_mean"])
    assert all(torch.equal(v, before[k]) for k, v in model.state_dict().items())


def test_gaps_and_paper_order(load_benchmark):
    load_benchmark("common")
    from design_study.report import gaps

    lever = "raw/0.02/absolute"
    per_arch = {a: {"levers": {lever: {"ap": {"mean": ap}}}}
                for a, ap in (("r50-sd", 0.1), ("r50-fpn", 0.2), ("r0-sp53", 0.3), ("spinenet-49", 0.15))}
    out = gaps(per_arch, [lever])[lever]
    assert out["paper_order_r50sd_fpn_sp53"] is True
    assert out["minus_r50_fpn"] == {"r50-sd": -0.1, "r0-sp53": 0.1, "spinenet-49": -0.05}
