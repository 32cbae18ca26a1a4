"""Classification-tier benchmark: its summary gives exact known values (z-scores of the paper's
order, the fidelity benchmark's spread), and a quick run writes its JSON with provenance and a
second run with the same settings continues from it instead of training again."""

import json

import pytest


@pytest.fixture(scope="module")
def tier(load_benchmark):
    return load_benchmark("classification_tier")


def _rows(values: dict[str, list[float]]) -> list[dict]:
    return [{"arch": arch, "seed": seed, "status": "ok", "top1": v, "params": 1, "flops": 2, "trial_seconds": 10.0}
            for arch, vs in values.items() for seed, v in enumerate(vs, 1)]


def test_summary_z_scores_and_spread(tier):
    summary = tier.summarize(_rows({"r50-sd": [0.5, 0.6, 0.7], "r0-sp53": [0.8, 0.8, 0.8], "spinenet-49": [0.7, 0.9, 0.8]}))
    sd_se = 0.1 / 3**0.5  # sd 0.1 over 3 seeds
    assert summary["per_arch"]["r50-sd"]["top1"]["se"] == pytest.approx(sd_se)
    assert summary["z"]["r0-sp53 - r50-sd"] == pytest.approx(0.2 / sd_se)  # r0-sp53's se is 0
    assert summary["z"]["spinenet-49 - r50-sd"] == pytest.approx(0.2 / (2 * sd_se**2) ** 0.5)
    assert summary["z"]["spinenet-49 - r0-sp53"] == pytest.approx(0.0)
    assert summary["spread"]["within_sd"] == pytest.approx((2 * 0.01 / 3) ** 0.5)  # variances 0.01, 0, 0.01
    assert tier.summarize(_rows({"r50-sd": [0.5]}))["per_arch"]["r50-sd"]["top1"]["se"] is None  # no spread yet


def test_quick_run_writes_json_and_resumes(tmp_path, run_benchmark):
    first = run_benchmark("classification_tier", "--quick", "--out", str(tmp_path))
    assert first.returncode == 0, first.stderr[-2000:]
    result = json.loads((tmp_path / "classification_tier.json").read_text())
    assert {(r["arch"], r["seed"]) for r in result["runs"]} == {(a, s) for a in ("r50-sd", "r0-sp53", "spinenet-49")
                                                               for s in (1, 2)}
    assert all(r["status"] == "ok" and 0.0 <= r["top1"] <= 1.0 for r in result["runs"])
    assert all(r["provenance"]["settings_hash"] for r in result["runs"])
    assert result["settings"]["resolved"]["task"]["name"] == "classification"
    assert set(result["summary"]["z"]) == {"r0-sp53 - r50-sd", "spinenet-49 - r50-sd", "spinenet-49 - r0-sp53"}
    second = run_benchmark("classification_tier", "--quick", "--out", str(tmp_path))
    assert second.returncode == 0 and "6 trainings found, 0 to train" in second.stdout
