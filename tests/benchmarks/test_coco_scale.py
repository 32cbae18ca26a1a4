"""COCO-scale benchmark on a small generated file: the generator is deterministic and plants what
it says (counted here again from the written JSON, by hand), and the benchmark's real path
(`prepare_data` in a fresh process) reports exactly those counts and the held-out split the seed
gives, then writes its JSON."""

import importlib
import json
import os
import random
from pathlib import Path

import pytest

IMAGES = 300


@pytest.fixture(scope="module")
def gen(load_benchmark):
    """The generator module, imported the way the benchmark imports it (its dataclass needs an entry in sys.modules)."""
    load_benchmark("coco_scale")
    return importlib.import_module("coco_scale_data")


@pytest.fixture(scope="module")
def made(gen, tmp_path_factory):
    return gen.generate(tmp_path_factory.mktemp("coco-scale"), IMAGES, seed=0)


def count_by_hand(annotations: str) -> dict:
    """Images, boxes, zero-sized and border-crossing boxes, counted straight from the file."""
    data = json.loads(Path(annotations).read_text())
    size = {img["id"]: (img["width"], img["height"]) for img in data["images"]}
    degenerate = overflowing = 0
    for ann in data["annotations"]:
        x, y, w, h = ann["bbox"]
        width, height = size[ann["image_id"]]
        if w <= 0 or h <= 0:
            degenerate += 1
        elif x < 0 or y < 0 or x + w > width or y + h > height:
            overflowing += 1
    return {"images": len(data["images"]), "boxes": len(data["annotations"]), "degenerate": degenerate,
            "overflowing": overflowing, "image_ids": sorted(size),
            "category_ids": sorted(c["id"] for c in data["categories"])}


def test_generator_is_deterministic_and_plants_what_it_reports(gen, made, tmp_path):
    again = gen.generate(tmp_path, IMAGES, seed=0)
    assert Path(again.annotations).read_bytes() == Path(made.annotations).read_bytes()
    counted = count_by_hand(made.annotations)
    assert counted["images"] == made.images == IMAGES
    assert counted["boxes"] == made.boxes == gen.boxes_for(IMAGES) == round(IMAGES * 860_000 / 118_000)
    assert (counted["degenerate"], counted["overflowing"]) == (made.degenerate, made.overflowing)
    assert made.degenerate > 0 and made.overflowing > 0
    assert counted["category_ids"] == list(gen.COCO_CATEGORY_IDS) and len(gen.COCO_CATEGORY_IDS) == 80
    assert max(gen.COCO_CATEGORY_IDS) == 90 and 12 not in gen.COCO_CATEGORY_IDS


def test_placeholders_are_one_file_linked_under_every_name(made):
    names = os.listdir(made.images_dir)
    assert len(names) == IMAGES and made.linked
    stats = {os.stat(os.path.join(made.images_dir, n)).st_ino for n in names}
    assert len(stats) == 1  # 300 names, one inode


def test_heldout_scales_with_the_images(load_benchmark):
    bench = load_benchmark("coco_scale")
    assert bench.heldout_for(118_000) == 5000 and bench.heldout_for(IMAGES) == 13 and bench.heldout_for(2) == 1


def test_real_path_counts_and_split_match_the_generated_file(made, load_benchmark):
    """The loader finds exactly what was planted; the split is the seed's shuffle of the ids."""
    bench = load_benchmark("coco_scale")
    heldout = bench.heldout_for(IMAGES)
    counted = count_by_hand(made.annotations)
    measured = bench.measure(made.images_dir, made.annotations, heldout)  # in this process: same path
    assert measured["counts"] == {
        "train_images": IMAGES - heldout, "val_images": heldout, "num_classes": 80,
        "dropped_boxes": counted["degenerate"], "clipped_boxes": counted["overflowing"],
        "boxes_kept": counted["boxes"] - counted["degenerate"]}
    assert set(measured["stages_s"]) == set(bench.STAGES)
    from proxy_trainer.data import coco

    assert coco.read_json.__module__ == "proxy_trainer.data.coco"  # the timing wrappers are gone again

    from proxy_trainer.config import DataConfig
    from proxy_trainer.data.prepare import prepare_data

    data = prepare_data(DataConfig(kind="coco", images=made.images_dir, annotations=made.annotations,
                                   heldout_images=heldout))
    ids = list(counted["image_ids"])
    random.Random(0).shuffle(ids)
    assert [r.image_id for r in data.val.images] == sorted(ids[:heldout])


@pytest.mark.slow
def test_benchmark_end_to_end_writes_its_json(tmp_path, run_benchmark):
    proc = run_benchmark("coco_scale", "--images", str(IMAGES), "--out", str(tmp_path), "--work",
                         str(tmp_path / "work"))
    assert proc.returncode == 0, proc.stderr[-3000:] + proc.stdout[-3000:]
    result = json.loads((tmp_path / "coco_scale.json").read_text())
    counted = count_by_hand(str(tmp_path / "work" / "annotations.json"))
    assert result["images"] == IMAGES and result["boxes"] == counted["boxes"]
    assert result["counts_match"] and result["measured"]["counts"] == result["expected_counts"]
    assert result["expected_counts"]["dropped_boxes"] == counted["degenerate"]
    assert result["expected_counts"]["clipped_boxes"] == counted["overflowing"]
    assert result["measured"]["peak_rss_mib"] >= result["measured"]["rss_after_imports_mib"] > 10
    assert result["targets"] == {"seconds": 30.0, "peak_rss_bytes": 2_000_000_000}
    assert "match the planted ones: True" in proc.stdout and result["machine"]["cpu_count"]


def test_bad_arguments_are_one_line_and_exit_2(tmp_path, run_benchmark):
    proc = run_benchmark("coco_scale", "--images", "1", "--out", str(tmp_path))
    assert proc.returncode == 2 and proc.stderr.strip().count("\n") == 0 and "--images is 1" in proc.stderr
    (tmp_path / "work").mkdir()
    (tmp_path / "work" / "annotations.json").write_text("{}")
    proc = run_benchmark("coco_scale", "--images", "10", "--out", str(tmp_path), "--work", str(tmp_path / "work"))
    assert proc.returncode == 2 and proc.stderr.strip().count("\n") == 0 and "is not empty" in proc.stderr
    assert not (tmp_path / "coco_scale.json").exists()
