"""Tiny COCO-format data sets written under a test's tmp_path: non-contiguous category ids, an
empty image, a crowd box, a degenerate box, a box overflowing the border, grayscale and RGBA."""

from __future__ import annotations

import json

import numpy as np
from PIL import Image

CATEGORY_IDS = (3, 17, 90)  # COCO-like gaps


def tiny_coco() -> dict:
    """The annotation dict of the tiny set (4 images, 64x48 each)."""
    images = [{"id": i, "file_name": f"img{i}.png", "width": 64, "height": 48} for i in (10, 11, 12, 13)]
    anns = [
        {"id": 1, "image_id": 10, "category_id": 3, "bbox": [4, 4, 20, 10], "area": 200, "iscrowd": 0},
        {"id": 2, "image_id": 10, "category_id": 90, "bbox": [30, 20, 20, 20], "area": 400, "iscrowd": 0},
        {"id": 3, "image_id": 11, "category_id": 17, "bbox": [50, 30, 20, 25], "area": 300, "iscrowd": 0},
        {"id": 4, "image_id": 11, "category_id": 3, "bbox": [0, 0, 40, 40], "area": 1600, "iscrowd": 1},
        {"id": 5, "image_id": 12, "category_id": 17, "bbox": [10, 10, 0, 8], "area": 0, "iscrowd": 0},
        {"id": 6, "image_id": 12, "category_id": 90, "bbox": [8, 8, 12, 12], "area": 144, "iscrowd": 0},
    ]  # image 13 has no annotations; ann 3 overflows right/bottom; ann 5 is degenerate
    cats = [{"id": c, "name": f"c{c}"} for c in (90, 3, 17)]  # listed out of order on purpose
    return {"images": images, "annotations": anns, "categories": cats}


def write_tiny_coco(root, data: dict | None = None) -> tuple[str, str]:
    """Write the images (RGB, grayscale, RGBA, palette) and the JSON; returns (images dir, json)."""
    data = tiny_coco() if data is None else data
    folder = root / "images"
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    modes = ("RGB", "L", "RGBA", "P")
    for index, img in enumerate(data["images"]):
        pixels = rng.integers(0, 255, (img["height"], img["width"], 3), dtype=np.uint8)
        Image.fromarray(pixels).convert(modes[index % len(modes)]).save(folder / img["file_name"])
    path = root / "annotations.json"
    path.write_text(json.dumps(data))
    return str(folder), str(path)
