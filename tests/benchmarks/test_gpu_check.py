"""The GPU check's --cpu dry run exercises the same code path as the GPU run and writes its JSON."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_gpu_check_cpu_dry_run(tmp_path):
    env = dict(os.environ, OMP_NUM_THREADS="1")
    proc = subprocess.run(
        ["bash", str(ROOT / "benchmarks" / "gpu_check.sh"), "--cpu", "--out", str(tmp_path), "--cache", str(tmp_path / "data")],
        check=False, capture_output=True, text=True, env=env, cwd=ROOT, timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    result = json.loads((tmp_path / "gpu_check_dry.json").read_text())
    assert result["spinenet49_images_per_s"] > 0 and result["r50fpn_images_per_s"] > 0
    assert result["speed_ratio"] == result["spinenet49_images_per_s"] / result["r50fpn_images_per_s"]
    trial = result["proxy_trial"]
    assert trial["status"] == "ok" and trial["image_size"] == 64 and 0.0 <= trial["ap"] <= 1.0
    lines = proc.stdout.splitlines()
    assert "speed ratio SN49/R50" in proc.stdout and lines[-1].split()[:3] == ["proxy", "trial", "status"]
    assert result["machine"]["torch"]


@pytest.mark.parametrize("missing, reason", [("yaml", "PyYAML is not installed"),
                                             ("pycocotools", "pycocotools is not installed")])
def test_gpu_check_trial_says_what_is_missing(load_benchmark, monkeypatch, tmp_path, missing, reason):
    """Without PyYAML or pycocotools the trial names the missing package before generating anything."""
    gpu_check = load_benchmark("gpu_check")
    monkeypatch.setitem(sys.modules, missing, None)  # a None entry makes `import missing` raise ImportError
    trial = gpu_check.proxy_trial(dry=True, cache_dir=tmp_path)
    assert list(trial) == ["skipped"] and trial["skipped"].startswith(reason)
    assert not any(tmp_path.iterdir())  # nothing generated or trained
