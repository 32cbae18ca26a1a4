"""Proxy step speed: one tiny real run writes its rows with exact FLOPs and consistent ratios."""

import json

import pytest


def test_tiny_run_writes_exact_flops_and_ratios(tmp_path, run_benchmark):
    proc = run_benchmark("proxy_step_speed", "--sizes", "64", "--steps", "1", "--warmup", "1", "--threads", "1",
                         "--out", str(tmp_path))
    assert proc.returncode == 0, proc.stderr[-3000:]
    (row,) = json.loads((tmp_path / "proxy_step_speed.json").read_text())["rows"]
    assert (row["input_size"], row["batch"], row["compile"]) == (64, 4, False)
    assert row["spinenet49_gmacs"] == pytest.approx(0.054993408) and row["r50fpn_gmacs"] == pytest.approx(0.064619008)
    assert row["flops_ratio"] == pytest.approx(0.054993408 / 0.064619008)
    assert row["time_ratio"] == pytest.approx(row["spinenet49_step_s"] / row["r50fpn_step_s"])
    assert row["overhead"] == pytest.approx(row["time_ratio"] / row["flops_ratio"])
    assert "time ratio" in proc.stdout and "overhead" in proc.stdout
