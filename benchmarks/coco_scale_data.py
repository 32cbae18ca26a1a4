"""A generated COCO-format annotation file at any scale, shaped like COCO train2017's.

At its defaults scaled to 118,000 images it holds 860,000 boxes (COCO train2017: 118,287 and
860,001): 80 categories with COCO's gapped ids in 1..90 and an uneven frequency, sparse image ids
listed in shuffled order, images mostly 640x480 with some 480x640 and other sizes (longer side
640), a long-tailed number of boxes per image (about 2.5% have none) whose areas follow COCO's
mix (41% small < 32^2, 34% medium, 25% large), about 1% crowd boxes, an `area` and a polygon
`segmentation` per box (8 vertices by default, fewer than COCO's, which make its file 448 MB; the
loader without masks never keeps them), and train2017's fields in the same order (license, URLs).
Planted problems the loader must handle: a few zero-width or zero-height boxes (dropped) and a
few boxes overflowing the right or bottom border (clipped); every other box lies strictly
inside its image, so the loader's counts equal the planted ones (`Generated`).

Each image file is a hard link to a tiny PNG (one copy per 50,000 names, as file systems cap the
links to a file; empty files where hard links fail): the loader checks that the files exist,
never their content. Everything is drawn from one seed.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

COCO_IMAGES, COCO_BOXES = 118_000, 860_000
COCO_CATEGORY_IDS = tuple(i for i in range(1, 91) if i not in (12, 26, 29, 30, 45, 66, 68, 69, 71, 83))
SIZE_MIX = (0.41, 0.34, 0.25)  # small, medium, large, by area (COCO's thresholds 32^2 and 96^2)
SIDE_RANGES = ((4.0, 32.0), (32.0, 96.0), (96.0, 480.0))  # sqrt(area) per class, drawn log-uniformly
DEGENERATE_RATE = 0.001  # boxes of zero width or height
OVERFLOW_RATE = 0.005  # boxes overflowing the right or bottom border
CROWD_RATE = 0.01
POLYGON_POINTS = 8  # vertices per segmentation: a 236 MB file at COCO scale (26: 448 MB, train2017's size)
LINKS_PER_SOURCE = 50_000
# a 1x1 grey PNG: the real image the placeholders link to
TINY_PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010800000000"
                         "3a7e9b550000000a4944415478da63680000008200815c3f0a2d0000000049454e44ae426082")


@dataclass(frozen=True)
class Generated:
    """What was written and what the loader should find in it."""

    annotations: str  # the JSON file
    images_dir: str  # the folder of placeholder images
    images: int
    boxes: int  # annotations written, planted problems included
    degenerate: int  # zero width or height: the loader drops them
    overflowing: int  # partly outside their image: the loader clips them
    crowd: int
    linked: bool  # placeholders are hard links (else empty files)
    json_bytes: int


def boxes_for(images: int) -> int:
    """COCO's boxes-per-image ratio (860,000 / 118,000) at `images` images."""
    return round(images * COCO_BOXES / COCO_IMAGES)


def _image_sizes(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """(widths, heights): 70% 640x480, 15% 480x640, 15% longer side 640 and the other 240..639."""
    kind = rng.choice(3, size=n, p=(0.70, 0.15, 0.15))
    other = rng.integers(240, 640, size=n)
    landscape = rng.random(n) < 0.6
    width = np.where(kind == 0, 640, np.where(kind == 1, 480, np.where(landscape, 640, other)))
    height = np.where(kind == 0, 480, np.where(kind == 1, 640, np.where(landscape, other, 640)))
    return width.astype(np.int64), height.astype(np.int64)


def _boxes_per_image(rng: np.random.Generator, images: int, boxes: int) -> np.ndarray:
    """A long-tailed count per image summing to exactly `boxes` (gamma weights, one multinomial)."""
    weights = rng.gamma(3.0, size=images)  # about 2.5% of images get no box (train2017: 1%)
    return rng.multinomial(boxes, weights / weights.sum())


def _box_sizes(rng: np.random.Generator, n: int, width: np.ndarray, height: np.ndarray) -> tuple:
    """(w, h) in hundredths of a pixel, COCO's area mix, aspect ratio 1/3..3, inside the image."""
    size_class = rng.choice(3, size=n, p=SIZE_MIX)
    low = np.array([r[0] for r in SIDE_RANGES])[size_class]
    high = np.array([r[1] for r in SIDE_RANGES])[size_class]
    side = np.exp(rng.uniform(np.log(low), np.log(high)))
    ratio = np.exp(rng.uniform(np.log(1 / 3), np.log(3), size=n))
    w = np.minimum(side * np.sqrt(ratio), width - 1.0)
    h = np.minimum(side / np.sqrt(ratio), height - 1.0)
    return np.maximum((w * 100).astype(np.int64), 100), np.maximum((h * 100).astype(np.int64), 100)


def _placements(rng: np.random.Generator, w: np.ndarray, h: np.ndarray, width: np.ndarray,
                height: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(x, y) in hundredths: every box ends at least 0.01 px inside its image."""
    x = (rng.random(len(w)) * (width * 100 - w)).astype(np.int64)
    y = (rng.random(len(h)) * (height * 100 - h)).astype(np.int64)
    return x, y


def _plant_problems(rng: np.random.Generator, x, y, w, h, width, height) -> tuple[np.ndarray, np.ndarray]:
    """Zero one side of some boxes, push others over the right/bottom border; (degenerate, overflowing) masks."""
    n = len(w)
    pick = rng.random(n)
    degenerate = pick < DEGENERATE_RATE
    overflowing = (pick >= DEGENERATE_RATE) & (pick < DEGENERATE_RATE + OVERFLOW_RATE)
    zero_w = degenerate & (rng.random(n) < 0.5)
    w[zero_w] = 0
    h[degenerate & ~zero_w] = 0
    push = rng.integers(100, 2000, size=n)  # 1..20 px over the border, less than the box: it starts inside
    right = overflowing & (rng.random(n) < 0.5)
    x[right] = width[right] * 100 - w[right] + np.minimum(push[right], w[right] - 1)
    bottom = overflowing & ~right
    y[bottom] = height[bottom] * 100 - h[bottom] + np.minimum(push[bottom], h[bottom] - 1)
    return degenerate, overflowing


def _category_ids(rng: np.random.Generator, n: int) -> np.ndarray:
    """COCO's ids, uneven like COCO (the first, 'person', about a quarter of the boxes)."""
    weights = 1.0 / np.arange(1, len(COCO_CATEGORY_IDS) + 1) ** 0.9
    weights[0] *= 4
    return np.array(COCO_CATEGORY_IDS)[rng.choice(len(COCO_CATEGORY_IDS), size=n, p=weights / weights.sum())]


def _hundredths(v: int) -> str:
    return f"{v // 100}.{v % 100:02d}"


def _unit_polygon(points: int) -> tuple[tuple[int, int], ...]:
    """`points` vertices of an ellipse inscribed in a box, as thousandths of its width and height."""
    angles = np.arange(points) * 2 * np.pi / points
    return tuple(zip((500 + 500 * np.cos(angles)).round().astype(int).tolist(),
                     (500 + 500 * np.sin(angles)).round().astype(int).tolist()))


def _polygon(x: int, y: int, w: int, h: int, unit: tuple[tuple[int, int], ...]) -> str:
    """The unit polygon scaled into the box, in pixels with two decimals."""
    return "[[" + ",".join(f"{_hundredths(x + w * ux // 1000)},{_hundredths(y + h * uy // 1000)}"
                           for ux, uy in unit) + "]]"


def _image_line(image_id: int, name: str, width: int, height: int) -> str:
    """One image entry with train2017's fields (license, URLs, capture date)."""
    return (f'{{"license":{image_id % 8 + 1},"file_name":"{name}",'
            f'"coco_url":"http://images.cocodataset.org/train2017/{name}","height":{height},"width":{width},'
            f'"date_captured":"2013-11-14 11:18:45","flickr_url":"http://farm9.staticflickr.com/8186/'
            f'{image_id}_b7a7b0e9b1_z.jpg","id":{image_id}}}')


def _annotation_lines(columns: tuple, unit: tuple) -> list[str]:
    lines = []
    for ann_id, image_id, cat, x, y, w, h, crowd, fill in zip(*(c.tolist() for c in columns)):
        lines.append(
            f'{{"segmentation":{_polygon(x, y, w, h, unit)},"area":{w * h * fill / 1e4:.2f},"iscrowd":{int(crowd)},'
            f'"image_id":{image_id},"bbox":[{_hundredths(x)},{_hundredths(y)},{_hundredths(w)},{_hundredths(h)}],'
            f'"category_id":{cat},"id":{ann_id}}}')
    return lines


def _write_json(path: Path, image_lines: list[str], ann_lines: list[str]) -> None:
    cats = [{"id": c, "name": f"category{c}", "supercategory": "thing"} for c in COCO_CATEGORY_IDS]
    with open(path, "w", encoding="utf-8") as handle:
        handle.write('{"info":{"description":"generated COCO-like annotations"},"licenses":[],\n"images":[\n')
        handle.write(",\n".join(image_lines))
        handle.write('\n],\n"annotations":[\n')
        handle.write(",\n".join(ann_lines))
        handle.write(f'\n],\n"categories":{json.dumps(cats)}}}\n')


def write_placeholders(folder: Path, names: list[str]) -> bool:
    """One tiny PNG hard-linked under every name (empty files if linking fails); True if linked.

    A file system caps the links to one file (ext4: 65,000), so each `LINKS_PER_SOURCE` names
    share their own copy of the PNG.
    """
    folder.mkdir(parents=True, exist_ok=True)
    try:
        for start in range(0, len(names), LINKS_PER_SOURCE):
            source = folder.parent / f"placeholder{start // LINKS_PER_SOURCE}.png"
            source.write_bytes(TINY_PNG)
            for name in names[start:start + LINKS_PER_SOURCE]:
                os.link(source, folder / name)
        return True
    except OSError:
        for name in names:
            (folder / name).touch()
        return False


def generate(root: str | Path, images: int = COCO_IMAGES, boxes: int | None = None, seed: int = 0,
             polygon_points: int = POLYGON_POINTS) -> Generated:
    """Write `root/annotations.json` and `root/images/` (`root` new or empty) with `images` images
    (and `boxes`, default COCO's ratio; a `polygon_points`-vertex segmentation each) drawn from
    `seed`; the same arguments give the same bytes."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    boxes = boxes_for(images) if boxes is None else boxes
    image_ids = np.sort(rng.choice(np.arange(1, 5 * images + 10), size=images, replace=False))
    width, height = _image_sizes(rng, images)
    owner = np.repeat(np.arange(images), _boxes_per_image(rng, images, boxes))
    bw, bh = _box_sizes(rng, boxes, width[owner], height[owner])
    bx, by = _placements(rng, bw, bh, width[owner], height[owner])
    degenerate, overflowing = _plant_problems(rng, bx, by, bw, bh, width[owner], height[owner])
    crowd = rng.random(boxes) < CROWD_RATE
    fill = rng.uniform(0.4, 0.9, size=boxes)  # the object's share of its box: the area
    order = rng.permutation(boxes)  # annotations listed in shuffled order, ids 1..boxes in that order
    ann_ids = np.empty(boxes, dtype=np.int64)
    ann_ids[order] = np.arange(1, boxes + 1)
    names = [f"{i:012d}.jpg" for i in image_ids.tolist()]
    image_lines = [_image_line(int(image_ids[i]), names[i], int(width[i]), int(height[i]))
                   for i in rng.permutation(images)]
    columns = (ann_ids, image_ids[owner], _category_ids(rng, boxes), bx, by, bw, bh, crowd, fill)
    ann_lines = _annotation_lines(tuple(c[order] for c in columns), _unit_polygon(polygon_points))
    path = root / "annotations.json"
    _write_json(path, image_lines, ann_lines)
    linked = write_placeholders(root / "images", names)
    return Generated(str(path), str(root / "images"), images, boxes, int(degenerate.sum()),
                     int(overflowing.sum()), int(crowd.sum()), linked, path.stat().st_size)
