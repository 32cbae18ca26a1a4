"""Loader benchmark: the generated COCO-like set is what it says (sizes, boxes inside, COCO's size
mix) and a quick run writes both paths' rates at 0/1/2 workers and the cache forms' sizes."""

import json
import random

import pytest


@pytest.fixture(scope="module")
def bench(load_benchmark):
    return load_benchmark("data_loader")


def test_boxes_follow_the_coco_size_mix_and_stay_inside(bench):
    rng = random.Random(0)
    boxes = [bench.coco_like_box(rng, 640, 480) for _ in range(4000)]
    assert all(x >= 0 and y >= 0 and x + w <= 640.2 and y + h <= 480.2 for x, y, w, h in boxes)
    areas = [w * h for _, _, w, h in boxes]
    small, large = sum(a < 32**2 for a in areas) / len(areas), sum(a >= 96**2 for a in areas) / len(areas)
    assert 0.33 < small < 0.5 and 0.18 < large < 0.32


def test_generated_set_and_quick_run(tmp_path, run_benchmark, bench):
    annotations = bench.generate_set(tmp_path / "set", 8)
    data = json.loads(annotations.read_text())
    assert len(data["images"]) == 8 and [im["width"] for im in data["images"]][6] == 480  # every 7th portrait
    assert bench.generate_set(tmp_path / "set", 8) == annotations  # kept, not regenerated
    proc = run_benchmark("data_loader", "--quick", "--out", str(tmp_path), "--work", str(tmp_path / "work"))
    assert proc.returncode == 0, proc.stderr[-2000:]
    result = json.loads((tmp_path / "data_loader.json").read_text())
    assert set(result["per_core"]) == {"decode", "cache"} and set(result["per_core"]["cache"]) == {"0", "1", "2"}
    assert result["forms"]["memmap_uint8"]["bytes_per_image"] == 3 * 64 * 64
    assert result["gpu_images_per_second"] is None and "not yet" in result["cores_per_gpu"]
