"""The GPU check's --cpu dry run exercises the same code path as the GPU run and writes its JSON,
the loader timing included; the tier file is read as Hydra composes it."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

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
    loader = result["loader"]  # the coco512 tier's training loader, at 64 px with 2 workers when dry
    assert (loader["image_size"], loader["batch"], loader["num_workers"]) == (64, 4, 2)
    assert loader["persistent_workers"] is True and loader["pin_memory"] is False  # no GPU to pin for
    assert loader["batches_per_epoch"] == 32  # the 32 training images 4 times, in batches of 4
    assert all(loader[k] > 0 for k in ("first_epoch_images_per_s", "images_per_s", "one_process_images_per_s"))
    assert "loader images_per_s" in proc.stdout
    lines = proc.stdout.splitlines()
    assert "speed ratio SN49/R50" in proc.stdout and lines[-1].split()[:3] == ["proxy", "trial", "status"]
    assert result["machine"]["torch"]


def test_the_tier_is_read_as_hydra_composes_it(load_benchmark):
    """The check reads the tier files with PyYAML alone (GPU images may lack Hydra): the coco512
    tier and its loader settings come out as `nas` composes them."""
    from nas.config import load_proxy_and_data
    from proxy_trainer.config import DataConfig, ProxyConfig

    tier, loader = load_benchmark("gpu_check").load_tier("coco512")
    proxy, data = load_proxy_and_data(["proxy=coco512"])
    assert ProxyConfig.from_dict(tier) == proxy and (proxy.amp, proxy.channels_last) == ("bf16", True)
    synthetic = load_benchmark("gpu_check").load_group("data", "synthetic")
    assert DataConfig.from_dict({**synthetic, **loader}) == data
    assert (data.num_workers, data.persistent_workers, data.pin_memory) == (8, True, True)


@pytest.mark.parametrize("missing, reason", [("yaml", "PyYAML is not installed"),
                                             ("pycocotools", "pycocotools is not installed")])
def test_gpu_check_trial_and_loader_say_what_is_missing(load_benchmark, monkeypatch, tmp_path, missing, reason):
    """Without PyYAML or pycocotools the trial and the loader timing name the missing package before
    generating anything."""
    gpu_check = load_benchmark("gpu_check")
    monkeypatch.setitem(sys.modules, missing, None)  # a None entry makes `import missing` raise ImportError
    trial = gpu_check.proxy_trial(dry=True, cache_dir=tmp_path)
    assert list(trial) == ["skipped"] and trial["skipped"].startswith(reason)
    loader = gpu_check.loader_timing(dry=True, cache_dir=tmp_path, device=torch.device("cpu"))
    assert loader == trial
    assert not any(tmp_path.iterdir())  # nothing generated or trained
