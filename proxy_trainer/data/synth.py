"""The bundled synthetic multi-scale detection data set, written in COCO format (PNG + JSON).

Each image has a clutter-filled gradient background, objects of the categories in
`synth_shapes` painted largest first so small objects stay visible, and Gaussian pixel noise.
Object sizes follow one of three scale profiles (`SCALES`):
- `uniform`: 2..6 objects with sides log-uniform between `MIN_SIDE` and `MAX_SIDE` of the image
  side, plus one large object in `LARGE_PROB` of the images (small, medium and large in COCOeval's
  absolute pixel sense at 128 px);
- `coco`: 3..8 objects whose sides, relative to the image, follow COCO's mix at about 640 px:
  41% small (2%-5% of the side, i.e. under 32 px at 640), 34% medium (5%-15%, 32-96 px) and 25%
  large (15%-80%), log-uniform within each band. Score it with area ranges scaled to the image
  (`proxy.area_ranges=relative`), so "small" keeps COCO's meaning at any image size;
- `single`: exactly one object per image, its side log-uniform between `SINGLE_SIDE` of the image
  side (a tenfold range of scales), for the classification task: the image's label is that
  object's category, so recognising it needs the fine levels for small objects and the coarse
  ones for large.
Every image draws from its own `numpy` generator seeded by (seed, index), so the files are
identical for the same seed and profile.

Each annotation also holds its instance mask (`segmentation`): the part of the object still
visible once every later object is painted over it, as compressed COCO RLE (pycocotools). RLE
and not polygons: a visible part can have holes (a ring, an object with a smaller one on top) or
fall apart in pieces, which RLE keeps pixel-exact and polygons would have to trace. Boxes, areas
and pixels are those the generator wrote before masks (the masks take no random draws), so
`GENERATOR_VERSION` stays 1; a cached set written before masks gets its annotation file
rewritten once, on first use (`proxy_trainer/data/cache.py`). A mask may be empty where later
objects together hide an object entirely (each covers under `MAX_OCCLUSION` of its box).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable

import numpy as np
from PIL import Image

from proxy_trainer.data.masks import encode_mask
from proxy_trainer.data.synth_shapes import CATEGORIES, background, draw_clutter

GENERATOR_VERSION = 1  # bump when the drawing changes: part of the cache key
MIN_SIDE, MAX_SIDE = 0.04, 0.8  # object side as a fraction of the image side (log-uniform)
LARGE_SIDE, LARGE_PROB = (0.6, 0.9), 0.35  # one large object in this many images (COCO "large" at 128 px)
OBJECTS_PER_IMAGE = (2, 6)  # inclusive range
MAX_OCCLUSION = 0.4  # a later (smaller) object may hide at most this fraction of an earlier box
NOISE_STD = 0.04  # Gaussian pixel noise, in [0, 1] intensity units
COCO_BANDS = ((0.41, 0.02, 0.05), (0.34, 0.05, 0.15), (0.25, 0.15, 0.8))  # (share, side from, side to)
COCO_OBJECTS_PER_IMAGE = (3, 8)  # inclusive; COCO averages about 7 objects per image
SINGLE_SIDE = (0.08, 0.8)  # `single`: the one object's side, as a fraction of the image side
SCALES = ("uniform", "coco", "single")
ANNOTATIONS_NAME = "annotations.json"
MASKS_FORM = "visible-rle"  # info.segmentation of a file with masks: each object's visible part, as RLE
IMAGES_DIR = "images"


def _uniform_sides(rng: np.random.Generator) -> np.ndarray:
    count = int(rng.integers(OBJECTS_PER_IMAGE[0], OBJECTS_PER_IMAGE[1] + 1))
    sides = np.exp(rng.uniform(np.log(MIN_SIDE), np.log(MAX_SIDE), count))
    if rng.uniform() < LARGE_PROB:
        sides[0] = rng.uniform(*LARGE_SIDE)
    return sides


def _coco_sides(rng: np.random.Generator) -> np.ndarray:
    count = int(rng.integers(COCO_OBJECTS_PER_IMAGE[0], COCO_OBJECTS_PER_IMAGE[1] + 1))
    shares, lows, highs = (np.array(column) for column in zip(*COCO_BANDS))
    band = rng.choice(len(COCO_BANDS), size=count, p=shares)
    return np.exp(rng.uniform(np.log(lows[band]), np.log(highs[band])))


def _single_sides(rng: np.random.Generator) -> np.ndarray:
    return np.exp(rng.uniform(np.log(SINGLE_SIDE[0]), np.log(SINGLE_SIDE[1]), 1))


_SIDES = {"uniform": _uniform_sides, "coco": _coco_sides, "single": _single_sides}


def _sizes(rng: np.random.Generator, size: int, scales: str) -> list[tuple[int, int]]:
    """(width, height) of each object of one image, in pixels, largest area first."""
    sides = _SIDES[scales](rng) * size
    count = len(sides)
    aspects = np.exp(rng.uniform(-0.3, 0.3, count))
    dims = [(max(3, round(s * a)), max(3, round(s / a))) for s, a in zip(sides, aspects)]
    return sorted(((min(w, size), min(h, size)) for w, h in dims), key=lambda d: -d[0] * d[1])


def _overlap(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> float:
    """Fraction of box `a` (x, y, w, h) covered by box `b`."""
    ix = max(0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    iy = max(0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    return ix * iy / (a[2] * a[3])


def _place(rng, dims: tuple[int, int], size: int, placed: list) -> tuple[int, int, int, int] | None:
    for _ in range(20):
        box = (int(rng.integers(0, size - dims[0] + 1)), int(rng.integers(0, size - dims[1] + 1)), *dims)
        if all(_overlap(old, box) < MAX_OCCLUSION for old in placed):
            return box
    return None


def _paint_object(rng, canvas: np.ndarray, box, category) -> tuple[list[float], np.ndarray]:
    """Paint one object; its painted box [x, y, w, h] and its mask on the whole canvas [S, S]."""
    x, y, w, h = box
    mask, texture = category.paint(rng, w, h)
    region = canvas[y : y + h, x : x + w]
    region[mask] = texture[mask]
    rows, cols = np.nonzero(mask.any(axis=1))[0], np.nonzero(mask.any(axis=0))[0]
    on_canvas = np.zeros(canvas.shape[:2], dtype=bool)
    on_canvas[y : y + h, x : x + w] = mask
    box = [float(x + cols[0]), float(y + rows[0]), float(cols[-1] - cols[0] + 1), float(rows[-1] - rows[0] + 1)]
    return box, on_canvas


def render_image_with_masks(seed: int, index: int, size: int,
                            scales: str = "uniform") -> tuple[np.ndarray, list, list[np.ndarray]]:
    """One synthetic image, its objects (sizes from the `scales` profile) and their visible masks.

    Returns:
        (uint8 [S, S, 3] pixels, [(category_id, [x, y, w, h]), ...], [bool [S, S] per object]):
        each mask is the object's painted pixels minus those of the objects painted after it.
    """
    rng = np.random.default_rng([seed, index])
    canvas = background(rng, size)
    draw_clutter(rng, canvas, int(rng.integers(2, 7)))
    objects, placed, visible = [], [], []
    for dims in _sizes(rng, size, scales):
        box = _place(rng, dims, size, placed)
        if box is None:
            continue
        category = CATEGORIES[int(rng.integers(len(CATEGORIES)))]
        painted_box, mask = _paint_object(rng, canvas, box, category)
        for earlier in visible:
            earlier &= ~mask  # the new object hides what it covers
        objects.append((category.category_id, painted_box))
        visible.append(mask)
        placed.append(box)
    noisy = canvas + rng.normal(0.0, NOISE_STD, canvas.shape)
    return (np.clip(noisy, 0.0, 1.0) * 255 + 0.5).astype(np.uint8), objects, visible


def render_image(seed: int, index: int, size: int, scales: str = "uniform") -> tuple[np.ndarray, list]:
    """One synthetic image and its objects, with object sizes from the `scales` profile.

    Returns:
        (uint8 [S, S, 3] pixels, [(category_id, [x, y, w, h]), ...]).
    """
    pixels, objects, _ = render_image_with_masks(seed, index, size, scales)
    return pixels, objects


def _coco_header(scales: str) -> dict:
    return {
        "info": {"description": "spinenet-nas synthetic multi-scale shapes", "version": GENERATOR_VERSION, "scales": scales,
                 "segmentation": MASKS_FORM},
        "categories": [{"id": c.category_id, "name": c.name, "supercategory": "shape"} for c in CATEGORIES],
    }


def _add_image(coco: dict, index: int, size: int, objects: list, masks: list[np.ndarray]) -> None:
    """Append one image's entry and its annotations (box, area, visible mask) to a COCO dict."""
    coco["images"].append({"id": index + 1, "file_name": f"{index:06d}.png", "width": size, "height": size})
    for (category_id, bbox), mask in zip(objects, masks):
        coco["annotations"].append(
            {"id": len(coco["annotations"]) + 1, "image_id": index + 1, "category_id": category_id, "bbox": bbox,
             "area": bbox[2] * bbox[3], "iscrowd": 0, "segmentation": encode_mask(mask)}
        )


def _write_json(coco: dict, path: str) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(coco, handle, indent=1, sort_keys=True)


def has_masks(annotations_file: str) -> bool:
    """Whether a synthetic annotation file holds the visible masks (written since masks exist)."""
    with open(annotations_file, encoding="utf-8") as handle:
        return json.load(handle).get("info", {}).get("segmentation") == MASKS_FORM


def write_synthetic_annotations(path: str, images: int, size: int, seed: int, scales: str = "uniform") -> None:
    """Write only the annotation file of a synthetic set (the images are those `generate_synthetic`
    writes for the same arguments): how a cached set from before masks gets them."""
    coco = {**_coco_header(scales), "images": [], "annotations": []}
    for index in range(images):
        _, objects, masks = render_image_with_masks(seed, index, size, scales)
        _add_image(coco, index, size, objects, masks)
    _write_json(coco, path)


def generate_synthetic(
    out_dir: str,
    images: int = 300,
    size: int = 128,
    seed: int = 0,
    progress: Callable[[int], None] | None = None,
    scales: str = "uniform",
) -> str:
    """Write a synthetic COCO-format data set into `out_dir` (`images/*.png` + `annotations.json`,
    each annotation with its box and its visible mask as RLE).

    Args:
        out_dir: destination folder (created; existing files of the same names are replaced).
        images: number of images. size: their side in pixels. seed: the data set's seed.
        scales: the object-size profile, one of `SCALES`.
        progress: called with the number of images written so far.
    Returns:
        Path of the annotation file.
    """
    os.makedirs(os.path.join(out_dir, IMAGES_DIR), exist_ok=True)
    coco = {**_coco_header(scales), "images": [], "annotations": []}
    for index in range(images):
        pixels, objects, masks = render_image_with_masks(seed, index, size, scales)
        Image.fromarray(pixels).save(os.path.join(out_dir, IMAGES_DIR, f"{index:06d}.png"))
        _add_image(coco, index, size, objects, masks)
        if progress is not None:
            progress(index + 1)
    path = os.path.join(out_dir, ANNOTATIONS_NAME)
    _write_json(coco, path)
    return path
