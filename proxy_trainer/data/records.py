"""`ImageRecord`: one image of a COCO-format data set after validation and cleaning.

Boxes are COCO `[x, y, w, h]` in the image's own pixels, already clipped to the image and free
of degenerate ones; `crowd` marks `iscrowd` boxes (kept for COCOeval, ignored in training).
A set loaded with masks (`load_coco(..., masks=True)`, the instance task) also holds each box's
mask as a compressed RLE string (`proxy_trainer/data/masks.py`), decoded only when served.
`DataSet` is a validated set of records plus its category table.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ImageRecord:
    """One image and its cleaned annotations."""

    image_id: int  # the id in the annotation file (kept so detections map back to it)
    path: str  # absolute path of the image file
    width: int  # width as listed in the annotation file
    height: int  # height as listed in the annotation file
    boxes: tuple[tuple[float, float, float, float], ...]  # COCO [x, y, w, h], clipped
    category_ids: tuple[int, ...]  # the file's category id per box
    crowd: tuple[bool, ...]  # iscrowd per box
    areas: tuple[float, ...]  # COCO 'area' per box (w*h where the file gives none)
    masks: tuple[bytes, ...] = ()  # compressed RLE per box at width x height; () when loaded without masks


@dataclass(frozen=True)
class Category:
    """One category: its id in the file, its name, and its contiguous training label."""

    category_id: int
    name: str
    label: int  # 0..K-1 in increasing order of category_id


@dataclass(frozen=True)
class DataSet:
    """A validated COCO-format data set."""

    annotations_file: str  # where it came from, for messages
    images: tuple[ImageRecord, ...]  # sorted by image id
    categories: tuple[Category, ...]  # sorted by category id
    dropped_boxes: int  # degenerate boxes (zero width/height) removed
    clipped_boxes: int  # boxes partly outside their image, clipped to it
    has_masks: bool = False  # loaded with masks: every record holds one per box

    @property
    def num_classes(self) -> int:
        return len(self.categories)

    def label_of(self) -> dict[int, int]:
        """Map from the file's category id to the contiguous label."""
        return {c.category_id: c.label for c in self.categories}

    def category_of(self) -> dict[int, int]:
        """Map from contiguous label back to the file's category id."""
        return {c.label: c.category_id for c in self.categories}
