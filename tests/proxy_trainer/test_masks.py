"""Instance masks in the data: the synthetic generator writes each object's visible part as
COCO RLE (boxes and pixels unchanged), a cache from before masks gains them, the COCO loader
reads polygons and RLE and refuses bad ones in one line, and masks reach the letterboxed targets
(flipped with the image)."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
import torch

from proxy_trainer.data.cache import ensure_synthetic, synthetic_key
from proxy_trainer.data.coco import load_coco
from proxy_trainer.data.errors import DataError
from proxy_trainer.data.images import hflip_batch
from proxy_trainer.data.masks import decode_masks, encode_mask, letterbox_masks, original_masks
from proxy_trainer.data.synth import generate_synthetic, render_image, render_image_with_masks
from proxy_trainer.tasks.instance.data import InstanceDataset

from .coco_fixtures import tiny_coco, write_tiny_coco

pytestmark = pytest.mark.usefixtures("one_thread")


def test_visible_masks_are_the_painted_pixels_minus_later_objects():
    for index in range(6):
        pixels, objects, masks = render_image_with_masks(0, index, 128)
        plain_pixels, plain_objects = render_image(0, index, 128)
        assert (plain_pixels == pixels).all() and plain_objects == objects
        for k, ((_, (x, y, w, h)), mask) in enumerate(zip(objects, masks)):
            rows, cols = np.nonzero(mask)
            assert rows.size == 0 or (x <= cols.min() and cols.max() < x + w and y <= rows.min() and rows.max() < y + h)
            assert not any((mask & later).any() for later in masks[k + 1:])  # later objects hide it


def test_annotation_file_holds_rle_masks_and_detection_fields_are_unchanged(tmp_path):
    path = generate_synthetic(str(tmp_path), images=3, size=64, seed=0)
    with open(path, encoding="utf-8") as handle:
        coco = json.load(handle)
    assert coco["info"]["segmentation"] == "visible-rle" and coco["info"]["version"] == 1
    objects = [obj for index in range(3) for obj in render_image(0, index, 64)[1]]
    assert [(a["category_id"], a["bbox"]) for a in coco["annotations"]] == objects
    first = coco["annotations"][0]
    assert set(first) == {"id", "image_id", "category_id", "bbox", "area", "iscrowd", "segmentation"}
    assert first["segmentation"]["size"] == [64, 64] and isinstance(first["segmentation"]["counts"], str)
    visible = render_image_with_masks(0, 0, 64)[2][0]
    assert (decode_masks([first["segmentation"]["counts"].encode()], 64, 64)[0] == visible).all()


def test_a_cached_set_from_before_masks_gains_them_once(tmp_path):
    images, path = ensure_synthetic(4, 32, 1, cache_dir=str(tmp_path))
    with open(path, encoding="utf-8") as handle:
        fresh = json.load(handle)
    old = json.loads(json.dumps(fresh))
    del old["info"]["segmentation"]
    for ann in old["annotations"]:
        del ann["segmentation"]
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(old, handle)
    assert ensure_synthetic(4, 32, 1, cache_dir=str(tmp_path)) == (images, path)
    with open(path, encoding="utf-8") as handle:
        assert json.load(handle) == fresh
    assert sorted(os.listdir(tmp_path)) == [synthetic_key(4, 32, 1)]  # no staging file left


def _with_segmentations(**by_id) -> dict:
    data = tiny_coco()
    for ann in data["annotations"]:
        ann["segmentation"] = by_id.get(f"a{ann['id']}", [[ann["bbox"][0], ann["bbox"][1], ann["bbox"][0] + 5,
                                                           ann["bbox"][1], ann["bbox"][0] + 5, ann["bbox"][1] + 5]])
    return data


def test_polygons_and_both_rle_forms_load_as_masks(tmp_path):
    crowd = {"size": [48, 64], "counts": [100, 20, 48 * 64 - 120]}  # uncompressed, as COCO's crowd regions
    compressed = encode_mask(np.pad(np.ones((12, 12), bool), ((8, 28), (8, 44))))
    images, path = write_tiny_coco(tmp_path, _with_segmentations(a4=crowd, a6=compressed))
    data = load_coco(images, path, masks=True)
    assert data.has_masks and [len(r.masks) for r in data.images] == [len(r.boxes) for r in data.images]
    record = data.images[2]  # image 12: its degenerate box is dropped with its mask
    assert decode_masks(list(record.masks), 48, 64).sum() == 144
    assert decode_masks(list(data.images[1].masks), 48, 64)[1].sum() == 20  # the crowd region
    assert all(r.masks == () for r in load_coco(images, path).images)  # without masks=True none are read


@pytest.mark.parametrize(
    "segmentation, problem",
    [
        ([[1, 2, 3, 4]], "has a polygon of 4 coordinates"),
        ([[1, 2, "x", 4, 5, 6]], "has a polygon that is not a list of numbers"),
        ({"size": [10, 10], "counts": "abc"}, "is RLE of size [10, 10], not its image's [height, width] [48, 64]"),
        ({"size": [48, 64], "counts": [5, 5]}, "is RLE whose run lengths sum to 10"),
        ("mask", "is a str, neither polygons nor RLE"),
        (None, "has no segmentation"),
    ],
)
def test_bad_segmentation_is_one_line_naming_the_annotation(tmp_path, segmentation, problem):
    data = _with_segmentations()
    data["annotations"][1]["segmentation"] = segmentation
    images, path = write_tiny_coco(tmp_path, data)
    with pytest.raises(DataError) as err:
        load_coco(images, path, masks=True)
    message = str(err.value)
    assert "\n" not in message and f"annotation file {path}: annotation 2 of image 10 {problem}" in message
    assert "give polygons" in message
    load_coco(images, path)  # detection does not read masks


def test_instance_targets_letterbox_and_flip_masks_with_boxes(tmp_path):
    images, path = write_tiny_coco(tmp_path, _with_segmentations(a6=encode_mask(
        np.pad(np.ones((12, 12), bool), ((8, 28), (8, 44))))))
    dataset = InstanceDataset(load_coco(images, path, masks=True), 32)
    _, target, meta = dataset[2]  # image 12, 64x48 -> scale 0.5
    assert target["masks"].shape == (1, 32, 32) and target["masks"].dtype == torch.uint8
    assert target["masks"][0, 4:10, 4:10].all() and target["masks"].sum() == 36
    assert (meta["height"], meta["width"], meta["scale"]) == (48, 64, 0.5)
    generator = torch.Generator().manual_seed(3)  # its first draw, 0.004, flips
    image = torch.zeros(3, 32, 32)
    _, (flipped,) = hflip_batch([image], [target], generator)
    assert flipped["masks"][0, 4:10, 22:28].all() and flipped["boxes"][0, 0] == 32 - target["boxes"][0, 2]


def test_predicted_masks_return_to_the_images_own_pixels():
    canvas = torch.zeros(1, 1, 32, 32)
    canvas[0, 0, 4:10, 4:10] = 0.9  # letterboxed at scale 0.5 from 64x48
    back = original_masks(canvas, 0.5, 48, 64)
    assert back.shape == (1, 48, 64) and back[0, 9:19, 9:19].all() and back.sum() < 14 * 14
    assert letterbox_masks(back.astype(np.uint8), 0.5, 32)[0, 5:9, 5:9].all()
