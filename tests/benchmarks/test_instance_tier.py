"""Instance tier benchmark, quick mode only (the full one takes hours): it trains the three
references with two seeds on the smoke tier, writes mask AP beside box AP for each training and
the spread summary, and a rerun with the same settings trains nothing."""

import json


def test_quick_run_writes_mask_and_box_ap_and_resumes(tmp_path, run_benchmark):
    first = run_benchmark("instance_tier", "--quick", "--out", str(tmp_path))
    assert first.returncode == 0, first.stderr[-2000:]
    result = json.loads((tmp_path / "instance_tier.json").read_text())
    runs = result["runs"]
    assert sorted((r["arch"], r["seed"]) for r in runs) == sorted(
        (arch, seed) for arch in ("r50-sd", "r0-sp53", "spinenet-49") for seed in (1, 2))
    assert all(r["status"] == "ok" and 0.0 <= r["mask_ap"] <= 1.0 and 0.0 <= r["ap"] <= 1.0 for r in runs)
    summary = result["summary"]
    assert set(summary) == {"per_arch", "spread", "seed_agreement", "z"}
    assert set(summary["per_arch"]["spinenet-49"]) == {"mask_ap", "ap", "params", "flops", "trial_seconds"}
    again = run_benchmark("instance_tier", "--quick", "--out", str(tmp_path))
    assert again.returncode == 0 and "6 trainings found, 0 to train" in again.stdout
