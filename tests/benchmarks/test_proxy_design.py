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


def _arch(mean, se):
    return {"levers": {"raw/0.02/absolute": {"ap": {"mean": mean, "se": se}}}}


def test_paper_order_needs_each_gap_beyond_two_combined_standard_errors(load_benchmark):
    load_benchmark("common")
    from design_study.report import paper_order

    lever = "raw/0.02/absolute"
    per_arch = {"r50-sd": _arch(0.10, 0.01), "r50-fpn": _arch(0.20, 0.01), "r0-sp53": _arch(0.25, 0.01),
                "spinenet-49": _arch(0.18, 0.01)}
    out = paper_order(per_arch, lever)
    assert out["z"]["fpn_over_sd"] == pytest.approx(0.1 / (2 * 0.01**2) ** 0.5)  # 7.07
    assert out["z"]["sn49_over_fpn"] == pytest.approx(-0.02 / (2 * 0.01**2) ** 0.5)  # -1.41: within 2
    assert out["holds"] is True and out["stretch"] is False
    per_arch["r0-sp53"] = _arch(0.22, 0.01)  # 0.02 above r50-fpn: 1.41 combined standard errors
    assert paper_order(per_arch, lever)["holds"] is False


def test_rank_agreement_of_identical_and_reversed_schedules(load_benchmark):
    load_benchmark("common")
    from design_study.report import rank_agreement

    lever = "raw/0.02/absolute"
    short = {"per_arch": {f"a{i}": _arch(i / 10, 0.0) for i in range(6)}}
    same = rank_agreement(short, short, lever, resamples=200)
    assert same["kendall_tau"] == 1.0 and same["kendall_tau_95"] == [1.0, 1.0] and same["architectures"] == 6
    reversed_ = {"per_arch": {f"a{i}": _arch(-i / 10, 0.0) for i in range(6)}}
    assert rank_agreement(short, reversed_, lever, resamples=200)["spearman_rho"] == pytest.approx(-1.0)


def test_stages_plan_their_seeds_and_architectures(load_benchmark, tmp_path):
    load_benchmark("common")
    from design_study import plan

    kwargs = {"quick": False, "only": ["s160-coco"], "models": tmp_path, "jobs": 2}
    choose = plan.jobs("choose", **kwargs)
    assert sorted({j["seed"] for j in choose}) == [1, 2] and len(choose) == 8
    assert all(j["final_only"] for j in choose) and not any("final_only" in j for j in plan.jobs("screen", **kwargs))
    confirm = plan.jobs("confirm", **kwargs)
    assert sorted({j["seed"] for j in confirm}) == [3, 4, 5] and len(confirm) == 3 * 8
    assert sorted({j["arch"] for j in confirm if "spec_json" in j}) == [f"resnet50-s19-{k}" for k in range(4)]
    rank = plan.jobs("rank", **kwargs)
    assert len(rank) == 2 * 12 and sorted({j["epochs"] for j in rank}) == [12, 36]
    with pytest.raises(SystemExit, match="needs --only"):
        plan.jobs("rank", **{**kwargs, "only": None})


def test_a_training_of_the_same_identity_is_reused_under_the_new_key(load_benchmark, tmp_path):
    design = load_benchmark("proxy_design")
    from design_study import plan

    screen = plan.jobs("screen", quick=False, only=["s160-coco"], models=tmp_path, jobs=2)
    rank = plan.jobs("rank", quick=False, only=["s160-coco"], models=tmp_path, jobs=2)
    study = {"trainings": [{**job, "status": "ok", "final": {}} for job in screen]}
    todo = design.reuse_stored(rank, study)
    assert len(todo) == 24 - 4  # the references' seed 0 at 12 epochs is the screen's own training
    reused = [t for t in study["trainings"] if t.get("reused_from")]
    assert sorted(t["key"] for t in reused) == sorted(f"rank/s160-coco-x1/{a}/seed0" for a in plan.REFERENCES)


def test_stages_after_the_screen_evaluate_their_last_epoch_only(study_train):
    curve = study_train.LeverEvaluator(proxy=None, epochs=36, every=3)
    final = study_train.LeverEvaluator(proxy=None, epochs=36, every=None)
    assert [e for e in range(1, 37) if curve._wanted(e)] == [1, 2, 3, *range(6, 37, 3)]
    assert [e for e in range(1, 37) if final._wanted(e)] == [36]
