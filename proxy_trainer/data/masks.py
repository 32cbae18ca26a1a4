"""Instance masks: COCO `segmentation` fields checked and kept as compressed RLE, decoded lazily.

A COCO annotation's `segmentation` is polygons (a list of [x1, y1, x2, y2, ...] lists, each of at
least 3 points) or RLE (`{"size": [height, width], "counts": ...}`, the counts a compressed
string or a list of run lengths summing to height x width). `mask_rle` checks one against its
image and turns it into the compressed RLE string pycocotools writes (`bytes`): a few hundred
bytes per object, where polygons held as Python floats cost several times that, so a record keeps
every mask of a large set and decodes one image's masks only when it is served (`decode_masks`).
`letterbox_masks` maps them into the letterboxed input, `encode_mask` writes a predicted mask as
COCO RLE for COCOeval.
"""

from __future__ import annotations

import warnings

import numpy as np
import torch
from pycocotools import mask as mask_utils
from torch.nn import functional as F

from proxy_trainer.data.errors import DataError

MIN_POLYGON_COORDS = 6  # three (x, y) points
HOW_TO_FIX = ("give polygons [[x1, y1, x2, y2, x3, y3, ...], ...] or RLE {\"size\": [height, width], "
              "\"counts\": ...} in image pixels, or remove the annotation")


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _polygon_problem(polygons: list) -> str | None:
    if not polygons:
        return "is an empty polygon list"
    for polygon in polygons:
        if not isinstance(polygon, list) or not all(_is_number(v) for v in polygon):
            return "has a polygon that is not a list of numbers"
        if len(polygon) < MIN_POLYGON_COORDS or len(polygon) % 2:
            return f"has a polygon of {len(polygon)} coordinates (it needs an even count, at least {MIN_POLYGON_COORDS})"
    return None


def _rle_problem(rle: dict, height: int, width: int) -> str | None:
    size, counts = rle.get("size"), rle.get("counts")
    if size != [height, width]:
        return f"is RLE of size {size!r}, not its image's [height, width] [{height}, {width}]"
    if isinstance(counts, str):
        return None
    if isinstance(counts, list) and all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in counts):
        if sum(counts) != height * width:
            return f"is RLE whose run lengths sum to {sum(counts)}, not height x width = {height * width}"
        return None
    return "is RLE whose counts are neither a string nor a list of non-negative integers"


def segmentation_problem(segmentation, height: int, width: int) -> str | None:
    """What is wrong with a `segmentation` value for an image of that size (None: nothing)."""
    if isinstance(segmentation, list):
        return _polygon_problem(segmentation)
    if isinstance(segmentation, dict):
        return _rle_problem(segmentation, height, width)
    return f"is a {type(segmentation).__name__}, neither polygons nor RLE"


def mask_rle(ann: dict, height: int, width: int, path: str) -> bytes:
    """The annotation's mask as a compressed RLE string (pycocotools' form) for its image.

    Raises:
        DataError: no `segmentation`, or one that is neither valid polygons nor valid RLE (one
            line naming the file, the annotation and how to fix it).
    """
    segmentation = ann.get("segmentation")
    problem = ("has no segmentation (the instance task needs a mask per object)" if segmentation is None
               else segmentation_problem(segmentation, height, width))
    if problem:
        raise DataError(f"annotation file {path}: annotation {ann.get('id')} of image {ann.get('image_id')} "
                        f"{problem}; {HOW_TO_FIX}")
    if isinstance(segmentation, list):  # polygons: rasterised and merged into one mask
        rle = mask_utils.merge(mask_utils.frPyObjects(segmentation, height, width))
    elif isinstance(segmentation["counts"], list):  # uncompressed RLE (COCO's crowd regions)
        rle = mask_utils.frPyObjects(segmentation, height, width)
    else:
        rle = {"size": [height, width], "counts": segmentation["counts"].encode("ascii")}
    return rle["counts"]


def rle_dict(counts: bytes, height: int, width: int) -> dict:
    """The pycocotools RLE object of a stored mask."""
    return {"size": [height, width], "counts": counts}


def decode_masks(rles: list[bytes], height: int, width: int) -> np.ndarray:
    """Stored masks as uint8 [N, H, W] (0/1)."""
    if not rles:
        return np.zeros((0, height, width), dtype=np.uint8)
    with warnings.catch_warnings():  # pycocotools' Cython array predates numpy 2's `copy` keyword
        warnings.simplefilter("ignore", DeprecationWarning)
        stacked = mask_utils.decode([rle_dict(c, height, width) for c in rles])  # [H, W, N] Fortran order
    return np.ascontiguousarray(stacked.transpose(2, 0, 1))  # [H, W, N] -> [N, H, W]


def letterbox_masks(masks: np.ndarray, scale: float, size: int) -> torch.Tensor:
    """Masks [N, H, W] resized by `scale` (nearest, as `letterbox` resizes the image) and padded
    right/bottom to uint8 [N, size, size]."""
    count, height, width = masks.shape
    new_h, new_w = max(1, round(height * scale)), max(1, round(width * scale))
    tensor = torch.from_numpy(masks)
    if (new_h, new_w) != (height, width):
        tensor = F.interpolate(tensor[:, None].float(), size=(new_h, new_w), mode="nearest")[:, 0].to(torch.uint8)
    canvas = torch.zeros(count, size, size, dtype=torch.uint8)
    canvas[:, :new_h, :new_w] = tensor
    return canvas


def original_masks(probabilities: torch.Tensor, scale: float, height: int, width: int) -> np.ndarray:
    """Predicted mask probabilities [N, 1, S, S] of a letterboxed input as bool [N, H, W] in the
    image's own pixels: the image's part of the canvas, resized back (bilinear), thresholded at 0.5."""
    new_h, new_w = max(1, round(height * scale)), max(1, round(width * scale))
    region = probabilities[:, :, :new_h, :new_w].float()  # [N, 1, new_h, new_w]
    if (new_h, new_w) != (height, width):
        region = F.interpolate(region, size=(height, width), mode="bilinear", align_corners=False)
    return (region[:, 0] > 0.5).cpu().numpy()  # [N, H, W]


def encode_mask(mask: np.ndarray) -> dict:
    """A bool [H, W] mask as COCO RLE with a string `counts` (JSON-able, what COCOeval reads)."""
    rle = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
    return {"size": [int(v) for v in rle["size"]], "counts": rle["counts"].decode("ascii")}
