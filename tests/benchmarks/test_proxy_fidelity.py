"""Proxy fidelity benchmark: its statistics give exact known values; a quick run writes its JSON
and a second run with the same settings continues from it instead of training again."""

import json

import pytest


@pytest.fixture(scope="module")
def fidelity(load_benchmark):
    return load_benchmark("proxy_fidelity")


def test_kendall_tau_counts_concordant_minus_discordant_pairs(fidelity):
    assert fidelity.kendall_tau([1, 2, 3, 4], [10, 20, 30, 40]) == 1.0
    assert fidelity.kendall_tau([1, 2, 3, 4], [40, 30, 20, 10]) == -1.0
    # pairs (0,1) (0,2) (1,2): one swap of the last two -> 2 concordant, 1 discordant
    assert fidelity.kendall_tau([1, 2, 3], [1, 3, 2]) == pytest.approx(1 / 3)


def test_kendall_tau_b_corrects_for_ties(fidelity):
    assert fidelity.kendall_tau_b([1, 1, 2, 3], [5, 5, 6, 7]) == 1.0  # tau-a would give 5/6
    assert fidelity.kendall_tau([1, 1, 2, 3], [5, 5, 6, 7]) == pytest.approx(5 / 6)
    # one tie in x only: 5 concordant pairs, 5 untied in x, 6 untied in y -> 5 / sqrt(5 * 6)
    assert fidelity.kendall_tau_b([1, 1, 2, 3], [5, 6, 7, 8]) == pytest.approx(5 / 30**0.5)
    assert fidelity.kendall_tau_b([1, 2, 3], [4, 4, 4]) is None


def test_ranks_average_ties_and_spearman(fidelity):
    assert fidelity.ranks([0.3, 0.1, 0.3, 0.2]) == [3.5, 1.0, 3.5, 2.0]
    assert fidelity.spearman_rho([1, 2, 3], [3, 2, 1]) == pytest.approx(-1.0)
    assert fidelity.spearman_rho([1, 2, 3], [5, 5, 5]) is None  # undefined on a constant side


def test_spread_decomposition_separates_within_from_between(fidelity):
    ap = {"a": [0.10, 0.12], "b": [0.20, 0.22]}
    out = fidelity.spread_decomposition(ap)
    assert out["within_sd"] == pytest.approx(0.02 / 2**0.5)  # each pair's variance is 0.0002
    assert out["between_sd"] == pytest.approx(0.1 / 2**0.5)  # means 0.11 and 0.21
    assert out["ratio"] == pytest.approx(5.0)


def test_seed_agreement_over_seed_pairs(fidelity):
    ap = {"a": [0.1, 0.1, 0.3], "b": [0.2, 0.2, 0.1], "c": [0.3, 0.3, 0.2]}
    out = fidelity.seed_agreement(ap)
    # seeds 1 and 2 agree (tau 1); seed 3 ranks a > c > b, tau -1/3 against each of them
    tau_13 = fidelity.kendall_tau([0.1, 0.2, 0.3], [0.3, 0.1, 0.2])
    assert tau_13 == pytest.approx(-1 / 3) and out["seed_pairs"] == 3
    assert out["kendall_tau"] == pytest.approx((1 + 2 * tau_13) / 3)


def test_quick_run_writes_json_and_resumes(tmp_path, run_benchmark):
    first = run_benchmark("proxy_fidelity", "--quick", "--out", str(tmp_path))
    assert first.returncode == 0, first.stderr[-2000:]
    result = json.loads((tmp_path / "proxy_fidelity.json").read_text())
    archs = {"spinenet-49", "r0-sp53", "r50-sd", "r50-fpn", "resnet50-s0-0"}
    assert len(result["runs"]) == 2 * 2 * len(archs)  # schedules x seeds x architectures
    assert {r["arch"] for r in result["runs"]} == archs and {r["seed"] for r in result["runs"]} == {1, 2}
    assert {r["epochs"] for r in result["runs"] if r["schedule"] == "long"} == {3}
    assert all(r["status"] == "ok" and 0.0 <= r["ap"] <= 1.0 for r in result["runs"])
    summary = result["summary"]
    assert set(summary["short"]["per_arch"]) == archs and summary["short_vs_long"]["architectures"] == 5
    assert summary["long"]["per_arch"]["r50-fpn"]["flops"] > summary["long"]["per_arch"]["spinenet-49"]["flops"]
    second = run_benchmark("proxy_fidelity", "--quick", "--out", str(tmp_path))
    assert second.returncode == 0 and "20 runs found, 0 to train" in second.stdout
