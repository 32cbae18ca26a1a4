"""The screen benchmark: its best-observed curve and reach arithmetic with exact values, and a
quick run (tiny budget, one run per family) that writes a complete JSON."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def bench(load_benchmark):
    return load_benchmark("screen_efficiency")


def test_best_curve_follows_the_best_observed_not_the_best_true(bench):
    trace = [(0.10, 0.12), (0.20, 0.11), (0.15, 0.20), (0.25, 0.20), (0.30, 0.25)]  # (true, observed)
    curve = bench.best_curve(trace)
    assert curve == [0.10, 0.10, 0.15, 0.15, 0.30]  # a tie in observed keeps the earlier
    assert bench.trainings_to_reach(curve, 0.15) == 3
    assert bench.trainings_to_reach(curve, 0.10) == 1
    assert bench.trainings_to_reach(curve, 0.31) is None


def test_summary_counts_never_as_budget_plus_one(bench):
    cfg = {"budget": 4, "budgets": (2, 4)}
    cell = {"seconds": 1.0, "runs": [
        {"curve": [0.1, 0.2, 0.2, 0.3], "best": {2: 0.2, 4: 0.3}, "proposals_drawn": 4},
        {"curve": [0.1, 0.1, 0.1, 0.1], "best": {2: 0.1, 4: 0.1}, "proposals_drawn": 10},
    ]}
    s = bench.summarize_cell(cell, thresholds=[0.2, 0.15], cfg=cfg)
    assert s["reach"] == [2, None] and s["reached"] == 1
    assert s["mean_reach"] == 3.5 and s["ratio"] == 3.5 / 4 and s["meets_target"] is False
    assert s["se_reach"] == pytest.approx(1.5)  # stdev(2, 5) / sqrt(2)
    assert s["mean_best"] == {2: pytest.approx(0.15), 4: pytest.approx(0.2)}
    assert s["proposals_drawn"] == [4, 10] and s["screened_out_corr"] == [None, None]


def test_quick_run_writes_a_complete_table(bench, tmp_path, capsys):
    bench.main(["--quick", "--out", str(tmp_path)])
    data = json.loads((tmp_path / "screen_efficiency.json").read_text())
    assert data["mode"] == "quick" and data["budget"] == 8 and data["never_counts_as"] == 9
    families = {"additive", "interacting", "noisy-additive", "noisy-interacting"}
    assert set(data["results"]) == set(bench.CONTENDERS) and set(data["thresholds"]) == families
    for family in families:
        ppo = data["results"]["ppo"][family]
        assert data["thresholds"][family] == [ppo["best"][0]["8"]]  # the threshold is plain PPO's best at B
        assert ppo["reached"] == 1 and ppo["reach"][0] <= 8  # PPO always reaches its own best within B
        for label, per_family in data["results"].items():
            cell = per_family[family]
            assert cell["ratio"] == cell["mean_reach"] / 8
            screened = label.endswith("+screen")
            # screened: 6 proposals pass through (4 outstanding at the start, 2 more before the third
            # reward), then 2 trainings of K = 8 draws each
            assert cell["proposals_drawn"] == ([6 + 2 * 8] if screened else [8]), label
            if not screened:
                assert cell["screened_out_mean_true"] == cell["screened_out_corr"] == [None]
    out = capsys.readouterr().out
    assert "trainings to ppo's best@8" in out and "corr(predicted, true)" in out
