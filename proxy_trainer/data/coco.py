"""Loading a COCO-format data set (images folder + annotation JSON) through pycocotools.

Everything is checked before anything trains: a missing folder or file, JSON that is not COCO,
unknown image/category ids, boxes entirely outside their image and images listed but missing on
disk raise `DataError` with one line naming the file and the problem. Boxes that overflow the
border a little (real COCO has them) are clipped and counted; a box inside its image is kept
exactly as written. Boxes with zero width or height are dropped and counted. Any category ids
(COCO's 1..90 with gaps) map to contiguous labels 0..K-1.
With `masks=True` (the instance task) every kept annotation's `segmentation` is checked and kept
as compressed RLE (`proxy_trainer/data/masks.py`): a missing or malformed one is refused with one
line naming the annotation; without it segmentations are not read, and are left out as the JSON
is parsed.

Sized for COCO train2017 (118k images, 860k boxes; `make bench-coco-scale`, results/README.md):
leaving the segmentations out of the parse keeps the parsed file to about half its memory, the
cyclic garbage collector is paused while the millions of parsed objects are built (none of them
form cycles; its repeated full scans doubled the parse), and the image files are looked up in one
`scandir` listing instead of a `stat` per image.
"""

from __future__ import annotations

import contextlib
import gc
import io
import json
import os
from collections.abc import Iterator

from pycocotools.coco import COCO

from proxy_trainer.data.errors import DataError
from proxy_trainer.data.masks import mask_rle
from proxy_trainer.data.records import Category, DataSet, ImageRecord

REQUIRED_LISTS = ("images", "annotations", "categories")
NUMBERS = (int, float)  # a JSON number (true/false parse to bool, an int, and pass as they always did)


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """The cyclic collector off for the block (restored after): a full collection every few
    hundred thousand new containers would rescan all the parsed annotations again and again."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _without(keys: frozenset[str]):
    """A JSON object hook that leaves `keys` out of every object."""
    def hook(pairs: list) -> dict:
        return {key: value for key, value in pairs if key not in keys}

    return hook


def read_json(path: str, skip: frozenset[str] = frozenset()) -> dict:
    """The parsed JSON object in `path`, every object's `skip` keys left out as it is parsed.

    Raises:
        DataError: missing file, unreadable, not JSON or not an object.
    """
    if not os.path.isfile(path):
        raise DataError(f"annotation file {path} does not exist; give an existing COCO JSON file")
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle, object_pairs_hook=_without(skip) if skip else None)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise DataError(f"annotation file {path} is not readable JSON ({err})") from None
    if not isinstance(data, dict):
        raise DataError(f"annotation file {path} is not COCO JSON: the top level is not an object")
    return data


def index_coco(data: dict, path: str) -> COCO:
    """A pycocotools `COCO` index over an annotation dict, with its console chatter silenced.

    Raises:
        DataError: a required list is missing, or an entry lacks a field pycocotools needs.
    """
    for key in REQUIRED_LISTS:
        if not isinstance(data.get(key), list):
            raise DataError(f"annotation file {path} is not COCO JSON: it has no '{key}' list")
    coco = COCO()
    coco.dataset = data
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            coco.createIndex()
    except (KeyError, TypeError) as err:
        raise DataError(f"annotation file {path} is not COCO JSON: an entry lacks field {err}") from None
    return coco


def _categories(coco: COCO, path: str) -> tuple[Category, ...]:
    if not coco.cats:
        raise DataError(f"annotation file {path} lists no categories; a detector needs at least one")
    ids = sorted(coco.cats)
    return tuple(Category(cid, str(coco.cats[cid].get("name", cid)), label) for label, cid in enumerate(ids))


def _image_size(img: dict, path: str) -> tuple[int, int]:
    width, height = img.get("width"), img.get("height")
    if not (isinstance(width, int) and isinstance(height, int) and width > 0 and height > 0):
        raise DataError(f"annotation file {path}: image {img['id']} has no positive integer width/height")
    return width, height


def _bbox(ann: dict, path: str) -> tuple[float, float, float, float]:
    """The annotation's [x, y, w, h] as floats. Raises DataError if it has none."""
    bbox = ann.get("bbox")
    if isinstance(bbox, list) and len(bbox) == 4:
        x, y, w, h = bbox
        if isinstance(x, NUMBERS) and isinstance(y, NUMBERS) and isinstance(w, NUMBERS) and isinstance(h, NUMBERS):
            return float(x), float(y), float(w), float(h)
    raise DataError(f"annotation file {path}: annotation {ann.get('id')} has no [x, y, w, h] bbox")


def _clean_box(ann: dict, width: int, height: int, path: str) -> tuple[tuple[float, float, float, float], bool] | None:
    """(the box clipped to the image, whether clipping changed it), or None when degenerate.

    Raises:
        DataError: no bbox, or a box entirely outside its image.
    """
    box = _bbox(ann, path)
    x, y, w, h = box
    if w <= 0 or h <= 0:
        return None
    if x >= width or y >= height or x + w <= 0 or y + h <= 0:
        raise DataError(
            f"annotation file {path}: annotation {ann.get('id')} box {ann['bbox']} lies entirely outside "
            f"image {ann['image_id']} ({width}x{height}); fix or remove it"
        )
    if x >= 0 and y >= 0 and x + w <= width and y + h <= height:
        return box, False  # inside: kept as written (x1 - x0 would be w only to rounding)
    x0, y0 = max(x, 0.0), max(y, 0.0)
    x1, y1 = min(x + w, float(width)), min(y + h, float(height))
    return (x0, y0, x1 - x0, y1 - y0), True


def _check_category(ann: dict, coco: COCO, path: str) -> None:
    if ann.get("category_id") not in coco.cats:
        raise DataError(
            f"annotation file {path}: annotation {ann.get('id')} has category_id {ann.get('category_id')!r}, "
            "which is not in 'categories'"
        )


def _record(img: dict, coco: COCO, images_dir: str, path: str, counts: dict, masks: bool) -> ImageRecord:
    width, height = _image_size(img, path)
    boxes, cats, crowd, areas, rles = [], [], [], [], []
    for ann in coco.imgToAnns.get(img["id"], ()):
        _check_category(ann, coco, path)
        cleaned = _clean_box(ann, width, height, path)
        if cleaned is None:
            counts["dropped"] += 1
            continue
        box, clipped = cleaned
        counts["clipped"] += clipped
        boxes.append(box)
        cats.append(int(ann["category_id"]))
        crowd.append(bool(ann.get("iscrowd", 0)))
        areas.append(float(ann.get("area") or box[2] * box[3]))
        if masks:
            rles.append(mask_rle(ann, height, width, path))
    file_path = os.path.join(images_dir, str(img.get("file_name", "")))
    return ImageRecord(int(img["id"]), file_path, width, height, tuple(boxes), tuple(cats), tuple(crowd),
                       tuple(areas), tuple(rles))


def _check_annotations_point_at_images(coco: COCO, path: str) -> None:
    imgs = coco.imgs
    for ann in coco.dataset["annotations"]:
        if ann.get("image_id") not in imgs:
            raise DataError(
                f"annotation file {path}: annotation {ann.get('id')} refers to image_id "
                f"{ann.get('image_id')!r}, which is not in 'images'"
            )


def _files_in(folder: str) -> set[str]:
    """Names of the files (links to files included) directly in `folder`, from one listing; none
    if it cannot be listed (each file is then checked on its own)."""
    try:
        with os.scandir(folder) as entries:
            return {entry.name for entry in entries if entry.is_file()}
    except OSError:
        return set()


def _check_files_exist(records: tuple[ImageRecord, ...], images_dir: str, path: str) -> None:
    """Every record's file exists: looked up in one listing of the folder; a path the listing does
    not hold (a subfolder, `..`, an absolute name) is checked on its own."""
    listed, prefix = _files_in(images_dir), os.path.join(images_dir, "")
    missing = [r.path for r in records
               if not (r.path.startswith(prefix) and r.path[len(prefix):] in listed) and not os.path.isfile(r.path)]
    if missing:
        raise DataError(
            f"annotation file {path} lists {len(missing)} image(s) missing from {images_dir}, "
            f"first {os.path.relpath(missing[0], images_dir)}; fix the folder or the file"
        )


def load_coco(images_dir: str, annotations_file: str, masks: bool = False) -> DataSet:
    """Validate and load a COCO-format data set.

    Args:
        images_dir: folder holding the images named by each image's `file_name`.
        annotations_file: COCO annotation JSON (instances format).
        masks: also check and keep every kept annotation's `segmentation` (instance masks).
    Returns:
        The cleaned `DataSet` (images sorted by id, categories by id).
    Raises:
        DataError: any problem listed in the module docstring, naming the file.
    """
    if not os.path.isdir(images_dir):
        raise DataError(f"images folder {images_dir} does not exist; give the folder holding the images")
    path = annotations_file
    with gc_paused():
        coco = index_coco(read_json(path, skip=frozenset() if masks else frozenset({"segmentation"})), path)
        _check_annotations_point_at_images(coco, path)
        counts = {"dropped": 0, "clipped": 0}
        images_dir = os.path.abspath(images_dir)
        records = tuple(_record(coco.imgs[i], coco, images_dir, path, counts, masks) for i in sorted(coco.imgs))
        _check_files_exist(records, images_dir, path)
        return DataSet(path, records, _categories(coco, path), counts["dropped"], counts["clipped"], masks)
