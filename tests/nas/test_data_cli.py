"""`nas data synth` and `nas data check`: generated files, counts of a COCO-format set with
non-contiguous ids, and one-line errors with exit 2 for bad data."""

from __future__ import annotations

import json
import os

import pytest

from nas.cli import main
from tests.proxy_trainer.coco_fixtures import write_tiny_coco


def run_cli(capsys, *argv):
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_synth_writes_coco(capsys, tmp_path):
    out_dir = tmp_path / "shapes"
    code, out, err = run_cli(capsys, "data", "synth", "--out", str(out_dir), "--images", "3", "--size", "48", "--seed", "2")
    assert code == 0 and err == ""
    data = json.loads((out_dir / "annotations.json").read_text())
    assert out == f"wrote 3 images ({len(data['annotations'])} objects, 48 px, seed 2) to {out_dir / 'annotations.json'}\n"
    assert sorted(os.listdir(out_dir / "images")) == ["000000.png", "000001.png", "000002.png"]


def test_synth_rejects_bad_counts(capsys, tmp_path):
    with pytest.raises(SystemExit) as exit_info:
        main(["data", "synth", "--out", str(tmp_path), "--images", "0"])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and "'0' is not a positive integer" in err and err.count("\n") == 1


def test_check_counts_a_coco_set_and_the_cache_verb_builds_its_input_cache(capsys, tmp_path):
    images, path = write_tiny_coco(tmp_path)
    args = ("data=coco", f"data.images={images}", f"data.annotations={path}", "data.heldout_images=1",
            f"data.input_cache_dir={tmp_path / 'inputs'}", "proxy=smoke")
    code, out, _ = run_cli(capsys, "data", "check", *args)
    assert code == 0
    report = json.loads(out)
    state = report.pop("input_cache")
    assert report == {"train_images": 3, "val_images": 1, "num_classes": 3, "dropped_boxes": 1, "clipped_boxes": 1}
    assert (state["used"], state["setting"], state["image_size"]) == (True, "auto", 64)  # auto: on for coco
    assert not state["train"]["built"] and state["train"]["folder"].startswith(str(tmp_path / "inputs"))
    code, out, _ = run_cli(capsys, "data", "cache", *args)
    assert code == 0 and out.count("input cache of the") == 2 and "(3 images," in out and "(1 images," in out
    state = json.loads(run_cli(capsys, "data", "check", *args)[1])["input_cache"]
    assert state["train"]["built"] and state["train"]["bytes"] > 3 * 3 * 64 * 64


def test_check_reports_bad_data_in_one_line(capsys, tmp_path):
    images, path = write_tiny_coco(tmp_path)
    os.remove(os.path.join(images, "img11.png"))
    code, out, err = run_cli(capsys, "data", "check", "data=coco", f"data.images={images}", f"data.annotations={path}")
    assert code == 2 and out == ""
    assert err == f"nas data: error: annotation file {path} lists 1 image(s) missing from {images}, first img11.png; fix the folder or the file\n"


def test_check_for_the_instance_task_needs_every_objects_mask(capsys, tmp_path):
    images, path = write_tiny_coco(tmp_path)  # boxes only: detection's data, not instance's
    args = ("data", "check", "data=coco", f"data.images={images}", f"data.annotations={path}", "data.heldout_images=1")
    assert run_cli(capsys, *args)[0] == 0
    code, out, err = run_cli(capsys, *args, "task=instance")
    assert code == 2 and out == "" and err.count("\n") == 1
    assert err.startswith(f"nas data: error: annotation file {path}: annotation 1 of image 10 has no segmentation")
