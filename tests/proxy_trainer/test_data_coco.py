"""COCO-format loading: id mapping, empty images, crowd boxes, degenerate and overflowing boxes
(and boxes inside kept exactly as written), grayscale/RGBA conversion, image files in subfolders,
the held-out split, one-line errors for bad data, and the garbage collector left as it was."""

from __future__ import annotations

import gc
import json
import os

import pytest
import torch

from proxy_trainer.data.coco import load_coco
from proxy_trainer.data.errors import DataError
from proxy_trainer.data.images import DetectionDataset, hflip_batch
from proxy_trainer.data.split import holdout_split
from tests.proxy_trainer.coco_fixtures import tiny_coco, write_tiny_coco


@pytest.fixture
def tiny(tmp_path):
    return load_coco(*write_tiny_coco(tmp_path))


def test_categories_map_to_contiguous_labels(tiny):
    assert tiny.label_of() == {3: 0, 17: 1, 90: 2}
    assert tiny.category_of() == {0: 3, 1: 17, 2: 90}
    assert tiny.num_classes == 3


def test_cleaning_counts_and_boxes(tiny):
    by_id = {r.image_id: r for r in tiny.images}
    assert [r.image_id for r in tiny.images] == [10, 11, 12, 13]
    assert (tiny.dropped_boxes, tiny.clipped_boxes) == (1, 1)
    assert by_id[11].boxes == ((50.0, 30.0, 14.0, 18.0), (0.0, 0.0, 40.0, 40.0))  # clipped to 64x48
    assert by_id[11].crowd == (False, True)
    assert by_id[12].category_ids == (90,)  # the degenerate box is gone
    assert by_id[13].boxes == ()


def test_training_targets_skip_crowd_and_letterbox(tiny):
    dataset = DetectionDataset(tiny, image_size=32)
    image, target, meta = dataset[1]  # image 11: one normal box + one crowd box
    assert image.shape == (3, 32, 32) and image.dtype == torch.float32
    assert meta == {"image_id": 11, "scale": 0.5}
    assert target["boxes"].tolist() == [[25.0, 15.0, 32.0, 24.0]]
    assert target["labels"].tolist() == [1]
    assert float(image[:, 24:, :].abs().sum()) == 0.0  # 48 * 0.5 = 24 rows of content, then padding


@pytest.mark.parametrize("index", [0, 1, 2, 3])  # RGB, grayscale, RGBA, palette
def test_every_image_mode_becomes_rgb(tiny, index):
    image, target, _ = DetectionDataset(tiny, image_size=64)[index]
    assert image.shape == (3, 64, 64)
    assert target["boxes"].shape[1] == 4


def test_hflip_moves_boxes_with_pixels():
    image = torch.zeros(3, 8, 8)
    image[:, :, 1] = 1.0
    target = {"boxes": torch.tensor([[1.0, 0.0, 2.0, 8.0]]), "labels": torch.tensor([0])}
    generator = torch.Generator().manual_seed(0)
    flipped = None
    for _ in range(10):  # flips happen with probability 1/2
        images, targets = hflip_batch([image], [target], generator)
        if not torch.equal(images[0], image):
            flipped = images[0], targets[0]
            break
    assert flipped is not None
    assert flipped[0][:, :, 6].sum() == 24 and flipped[1]["boxes"].tolist() == [[6.0, 0.0, 7.0, 8.0]]


def test_holdout_split_is_deterministic(tiny):
    train, val = holdout_split(tiny, 2, seed=0)
    _, again_val = holdout_split(tiny, 2, seed=0)
    assert [r.image_id for r in val.images] == [r.image_id for r in again_val.images]
    assert len(train.images) == 2 and len(val.images) == 2
    assert {r.image_id for r in train.images} | {r.image_id for r in val.images} == {10, 11, 12, 13}
    splits = {tuple(r.image_id for r in holdout_split(tiny, 2, seed=s)[1].images) for s in range(8)}
    assert len(splits) > 1  # the seed matters
    assert val.categories == tiny.categories


@pytest.mark.parametrize("size", [0, 4, 5])
def test_holdout_split_size_must_leave_training_images(tiny, size):
    with pytest.raises(DataError, match="held-out split of"):
        holdout_split(tiny, size, seed=0)


def _bad(kind):
    """(mutation of the data/files, expected message part) for each bad-data case."""
    def box_outside(d):
        d["annotations"][0]["bbox"] = [70, 4, 5, 5]

    def unknown_category(d):
        d["annotations"][0]["category_id"] = 4

    def unknown_image(d):
        d["annotations"][0]["image_id"] = 99

    def no_annotations_list(d):
        del d["annotations"]

    return {
        "box-outside": (box_outside, "lies entirely outside image 10 (64x48)"),
        "unknown-category": (unknown_category, "has category_id 4, which is not in 'categories'"),
        "unknown-image": (unknown_image, "refers to image_id 99, which is not in 'images'"),
        "not-coco": (no_annotations_list, "is not COCO JSON: it has no 'annotations' list"),
    }[kind]


@pytest.mark.parametrize("kind", ["box-outside", "unknown-category", "unknown-image", "not-coco"])
def test_bad_annotations_raise_one_line_naming_the_file(tmp_path, kind):
    mutate, message = _bad(kind)
    data = tiny_coco()
    mutate(data)
    images, path = write_tiny_coco(tmp_path, data)
    with pytest.raises(DataError) as err:
        load_coco(images, path)
    assert message in str(err.value) and path in str(err.value) and "\n" not in str(err.value)


def test_missing_image_on_disk(tmp_path):
    images, path = write_tiny_coco(tmp_path)
    os.remove(os.path.join(images, "img12.png"))
    with pytest.raises(DataError, match=r"lists 1 image\(s\) missing from .*, first img12.png"):
        load_coco(images, path)


def test_missing_folder_and_non_json(tmp_path):
    images, path = write_tiny_coco(tmp_path)
    with pytest.raises(DataError, match="images folder .*nope does not exist"):
        load_coco(str(tmp_path / "nope"), path)
    with open(path, "w") as handle:
        handle.write("{not json")
    with pytest.raises(DataError, match="annotations.json is not readable JSON"):
        load_coco(images, path)
    with open(path, "w") as handle:
        json.dump([1, 2], handle)
    with pytest.raises(DataError, match="is not COCO JSON: the top level is not an object"):
        load_coco(images, path)
    with pytest.raises(DataError, match="annotation file .*missing.json does not exist"):
        load_coco(images, str(tmp_path / "missing.json"))


def test_boxes_inside_are_kept_as_written_and_not_counted_as_clipped(tmp_path):
    data = tiny_coco()
    data["annotations"][0]["bbox"] = [0.1, 0.7, 0.2, 47.29]  # (x + w) - x != w in floats: not a clip
    data["annotations"][1]["bbox"] = [30.3, 20.1, 33.69, 27.89]  # ends 0.01 px inside 64x48
    loaded = load_coco(*write_tiny_coco(tmp_path, data))
    assert loaded.images[0].boxes == ((0.1, 0.7, 0.2, 47.29), (30.3, 20.1, 33.69, 27.89))
    assert (loaded.dropped_boxes, loaded.clipped_boxes) == (1, 1)  # ann 5 and ann 3, as in the tiny set


def test_image_files_in_subfolders_are_found_and_missing_ones_named(tmp_path):
    data = tiny_coco()
    data["images"][0]["file_name"] = "sub/img10.png"
    (tmp_path / "images" / "sub").mkdir(parents=True)
    images, path = write_tiny_coco(tmp_path, data)
    assert load_coco(images, path).images[0].path == os.path.join(images, "sub", "img10.png")
    os.remove(os.path.join(images, "sub", "img10.png"))
    with pytest.raises(DataError, match=r"lists 1 image\(s\) missing from .*, first sub/img10.png"):
        load_coco(images, path)


def test_loading_leaves_the_garbage_collector_as_it_was(tmp_path):
    images, path = write_tiny_coco(tmp_path)
    assert gc.isenabled()
    load_coco(images, path)
    assert gc.isenabled()
    os.remove(os.path.join(images, "img12.png"))
    with pytest.raises(DataError):
        load_coco(images, path)
    assert gc.isenabled()
    gc.disable()
    try:
        load_coco(*write_tiny_coco(tmp_path / "again"))
        assert not gc.isenabled()
    finally:
        gc.enable()
