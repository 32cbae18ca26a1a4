"""Images as classifier inputs: the same letterboxed images as detection, each with one label.

The label of an image is the category of its largest non-crowd object (by annotated area), so
any COCO-format data set can train a classifier; the bundled synthetic set for this task
(`data.synth_scales=single`, `nas/conf/data/synthetic_classes.yaml`) has exactly one object per
image, at sides from 8% to 80% of the image. An image without a usable object has no label and
is refused before training.
"""

from __future__ import annotations

import torch

from proxy_trainer.data.errors import DataError
from proxy_trainer.data.images import DetectionDataset
from proxy_trainer.data.records import DataSet, ImageRecord


def image_label(record: ImageRecord, label_of: dict[int, int]) -> int | None:
    """The contiguous label of the image's largest non-crowd object, or None when it has none."""
    kept = [i for i, crowd in enumerate(record.crowd) if not crowd]
    if not kept:
        return None
    largest = max(kept, key=lambda i: record.areas[i])
    return label_of[record.category_ids[largest]]


def check_labelled(split: DataSet, name: str) -> None:
    """Refuse a split with an image that has no non-crowd object (one line: which, how to fix).

    Raises:
        DataError: the first such image.
    """
    label_of = split.label_of()
    for record in split.images:
        if image_label(record, label_of) is None:
            raise DataError(
                f"image {record.image_id} ({record.path}) of the {name} split of {split.annotations_file} has no "
                "non-crowd object, so no class label; remove it or annotate one object (task=classification labels "
                "an image by its largest object)"
            )


class ClassificationDataset(DetectionDataset):
    """A `DataSet` as letterboxed float images in [0, 1], each with `{"labels": [label]}`."""

    def __getitem__(self, index: int):
        pixels, scale = self._pixels(index)
        record = self.records[index]
        label = image_label(record, self.label_of)
        meta = {"image_id": record.image_id, "scale": scale}
        return self._image(pixels), {"labels": torch.tensor([label], dtype=torch.int64)}, meta


def flip_images(images: list, targets: list, generator: torch.Generator) -> tuple[list, list]:
    """Flip each image left-right with probability 1/2 (labels do not change)."""
    flips = torch.rand(len(images), generator=generator) < 0.5
    return [image.flip(-1) if flip else image for image, flip in zip(images, flips.tolist())], targets
