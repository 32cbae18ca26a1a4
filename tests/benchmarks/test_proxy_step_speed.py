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
    assert row["width"] == "proxy" and row["norm_ratio"] == pytest.approx(352304 / 303616)
    assert "time ratio" in proc.stdout and "overhead" in proc.stdout and "norm ratio" in proc.stdout


def test_full_width_with_kept_memory_names_its_file_and_counts_spinenet49_itself(tmp_path, run_benchmark):
    proc = run_benchmark("proxy_step_speed", "--sizes", "64", "--steps", "1", "--warmup", "1", "--threads", "1",
                         "--width", "full", "--keep-freed-memory", "--out", str(tmp_path))
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "not glibc" not in proc.stderr  # the allocator setting took effect on this Linux
    (row,) = json.loads((tmp_path / "proxy_step_speed_full_width_keep_freed.json").read_text())["rows"]
    assert row["width"] == "full"
    assert row["spinenet49_gmacs"] == pytest.approx(0.712116224) and row["r50fpn_gmacs"] == pytest.approx(0.826247168)
    assert row["norm_ratio"] == pytest.approx(1.224834593572779)
