"""Classification data: the `single` synthetic profile draws exactly one object per image at the
stated scales; an image's label is its largest non-crowd object's category; an image without one
is refused with one line (exit 2 from `nas data check task=classification`); the dataset serves
the label and flips leave it alone."""

from __future__ import annotations

import json

import torch

from nas.cli import main
from proxy_trainer.data.coco import load_coco
from proxy_trainer.data.synth import SINGLE_SIDE, render_image
from proxy_trainer.tasks.classification.data import ClassificationDataset, flip_images, image_label
from tests.proxy_trainer.coco_fixtures import write_tiny_coco


def test_single_profile_has_one_object_per_image_within_its_scales():
    sides = []
    for index in range(40):
        pixels, objects = render_image(seed=3, index=index, size=128, scales="single")
        assert pixels.shape == (128, 128, 3) and len(objects) == 1
        _, (_, _, w, h) = objects[0]
        sides.append(max(w, h) / 128)
    low, high = SINGLE_SIDE
    assert all(0.5 * low <= s <= 1.4 * high for s in sides)  # painted extent vs drawn side (shape, aspect)
    assert min(sides) < 0.2 and max(sides) > 0.5  # small and large objects both occur
    assert render_image(3, 7, 128, "single")[1] == render_image(3, 7, 128, "single")[1]  # seeded


def test_label_is_the_largest_non_crowd_object(tmp_path):
    data = load_coco(*write_tiny_coco(tmp_path))
    label_of = data.label_of()
    labels = {r.image_id: image_label(r, label_of) for r in data.images}
    # image 10: areas 200 (cat 3) and 400 (cat 90) -> 90; image 11: the crowd box (cat 3) is
    # ignored -> 17; image 12: the degenerate box is dropped -> 90; image 13 has no object
    assert labels == {10: label_of[90], 11: label_of[17], 12: label_of[90], 13: None}


def test_dataset_serves_the_label_and_flips_keep_it(tmp_path):
    data = load_coco(*write_tiny_coco(tmp_path))
    dataset = ClassificationDataset(data, 32)
    image, target, meta = dataset[0]
    assert image.shape == (3, 32, 32) and target["labels"].tolist() == [data.label_of()[90]] and meta["image_id"] == 10
    images, targets = flip_images([image, image], [target, target], torch.Generator().manual_seed(0))
    assert targets == [target, target]
    assert sum(torch.equal(out, image.flip(-1)) for out in images) + sum(torch.equal(out, image) for out in images) == 2


def test_an_unlabelled_image_is_refused_with_one_line(capsys, tmp_path):
    images, annotations = write_tiny_coco(tmp_path)
    code = main(["data", "check", "task=classification", "data=coco", f"data.images={images}",
                 f"data.annotations={annotations}", "data.heldout_images=1", "data.split_seed=0"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1
    assert "image 13" in err and "has no non-crowd object, so no class label" in err
    code = main(["data", "check", "data=coco", f"data.images={images}", f"data.annotations={annotations}",
                 "data.heldout_images=1"])
    assert code == 0 and json.loads(capsys.readouterr().out)["train_images"] == 3  # detection takes it
