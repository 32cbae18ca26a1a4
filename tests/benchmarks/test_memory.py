"""Memory benchmark: a quick run (smoke-tier trials in fresh processes, a real smoke-tier search
driver polled for its peak RSS) writes its JSON with sane peaks and the baseline ratio."""

import json

import pytest


@pytest.mark.ray
@pytest.mark.slow
def test_quick_run_end_to_end(tmp_path, run_benchmark):
    proc = run_benchmark("memory", "--quick", "--out", str(tmp_path), "--cache", str(tmp_path / "cache"),
                         "--work", str(tmp_path / "work"))
    assert proc.returncode == 0, proc.stderr[-3000:] + proc.stdout[-3000:]
    result = json.loads((tmp_path / "memory.json").read_text())
    trials = {t["arch"]: t for t in result["trials"]}
    assert set(trials) == {"spinenet-49", "r50-fpn"} and len({t["pid"] for t in trials.values()}) == 2
    for trial in trials.values():
        assert trial["status"] == "ok" and trial["epochs"] == 1 and trial["image_size"] == 64
        assert 50 < trial["rss_before_training_mib"] <= trial["peak_rss_mib"]
    ratio = trials["spinenet-49"]["peak_rss_mib"] / trials["r50-fpn"]["peak_rss_mib"]
    assert result["spinenet49_vs_r50fpn"] == pytest.approx(ratio)
    driver = result["driver"]
    assert driver["trials"] == 2 and driver["peak_rss_mib"] > 50
    assert (tmp_path / "work" / "driver-search" / "search.db").exists()
    assert "search driver (2 trials)" in proc.stdout and result["machine"]["cpu_count"]
