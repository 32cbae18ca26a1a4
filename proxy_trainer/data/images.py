"""Images as detector inputs: decode (grayscale/RGBA/palette converted to RGB), letterbox to a
square `image_size` (longer side fitted, zero padding right/bottom), and boxes mapped to match.

`DetectionDataset` serves `(image, target, meta)` for training and evaluation; `collate` keeps
lists (torchvision detectors take lists). `hflip_batch` and `scale_jitter_batch` are the training
augmentations (boxes and masks move with the image); both work on the letterboxed tensors, so
they apply alike to decoded and to cached inputs.
"""

from __future__ import annotations

import torch
from PIL import Image
from torch.utils.data import Dataset

from proxy_trainer.data.errors import DataError
from proxy_trainer.data.records import DataSet, ImageRecord


def read_rgb(path: str) -> Image.Image:
    """The image at `path` as 8-bit RGB (grayscale, RGBA and palette images converted).

    Raises:
        DataError: the file cannot be decoded as an image.
    """
    try:
        with Image.open(path) as img:
            return img.convert("RGB")
    except OSError as err:
        raise DataError(f"image {path} cannot be read ({err})") from None


def letterbox(img: Image.Image, size: int) -> tuple[torch.Tensor, float]:
    """Fit the longer side to `size`, pad to size x size. Returns (uint8 [3,S,S], scale)."""
    scale = size / max(img.width, img.height)
    new_w, new_h = max(1, round(img.width * scale)), max(1, round(img.height * scale))
    resized = img.resize((new_w, new_h), Image.BILINEAR) if scale != 1.0 else img
    pixels = torch.frombuffer(bytearray(resized.tobytes()), dtype=torch.uint8)
    pixels = pixels.view(new_h, new_w, 3).permute(2, 0, 1)  # [H*W*3] -> [H, W, 3] -> [3, H, W]
    canvas = torch.zeros(3, size, size, dtype=torch.uint8)
    canvas[:, :new_h, :new_w] = pixels
    return canvas, scale


def target_of(record: ImageRecord, scale: float, label_of: dict[int, int]) -> dict[str, torch.Tensor]:
    """Training target of a record: non-crowd boxes as xyxy in letterboxed pixels, labels 0..K-1."""
    keep = [i for i, crowd in enumerate(record.crowd) if not crowd]
    boxes = torch.tensor([record.boxes[i] for i in keep], dtype=torch.float32).reshape(-1, 4)  # [N, 4] xywh
    boxes[:, 2:] += boxes[:, :2]  # xywh -> xyxy
    labels = torch.tensor([label_of[record.category_ids[i]] for i in keep], dtype=torch.int64)
    return {"boxes": boxes * scale, "labels": labels}


def checked_rgb(record: ImageRecord) -> Image.Image:
    """The record's image as RGB, checked to have the size its annotation file says.

    Raises:
        DataError: unreadable, or another size than annotated.
    """
    img = read_rgb(record.path)
    if (img.width, img.height) != (record.width, record.height):
        raise DataError(
            f"image {record.path} is {img.width}x{img.height} but its annotation file says "
            f"{record.width}x{record.height}"
        )
    return img


class DetectionDataset(Dataset):
    """A `DataSet` as letterboxed float images in [0, 1] with targets. Pixels come from the
    split's input cache when `inputs` is given (`input_cache.py`; targets are then mapped once
    per process and kept), else they are decoded from the files, kept in memory when `cache` is
    set (small data sets re-read every epoch otherwise)."""

    def __init__(self, data: DataSet, image_size: int, cache: bool = False, inputs=None) -> None:
        self.records = data.images
        self.label_of = data.label_of()
        self.image_size = image_size
        self.inputs = inputs  # an InputCache of these records at this size, or None
        self._cache: dict[int, tuple[torch.Tensor, float]] | None = {} if cache and inputs is None else None
        self._targets: dict[int, dict] | None = {} if inputs is not None else None
        # True: items carry uint8 images, converted by `float_images` in the training process
        # (loader workers then hand over a quarter of the bytes; `make_loaders` sets it for them)
        self.deliver_uint8 = False

    def __len__(self) -> int:
        return len(self.records)

    def _pixels(self, index: int) -> tuple[torch.Tensor, float]:
        if self.inputs is not None:
            return self.inputs.pixels(index)
        if self._cache is not None and index in self._cache:
            return self._cache[index]
        result = letterbox(checked_rgb(self.records[index]), self.image_size)
        if self._cache is not None:
            self._cache[index] = result
        return result

    def _target(self, index: int, scale: float) -> dict[str, torch.Tensor]:
        if self._targets is None:
            return target_of(self.records[index], scale, self.label_of)
        if index not in self._targets:
            self._targets[index] = target_of(self.records[index], scale, self.label_of)
        return {k: v.clone() for k, v in self._targets[index].items()}

    def __getitem__(self, index: int):
        pixels, scale = self._pixels(index)
        meta = {"image_id": self.records[index].image_id, "scale": scale}
        return self._image(pixels), self._target(index, scale), meta

    def _image(self, pixels: torch.Tensor) -> torch.Tensor:
        """The served image: uint8 [3, S, S] when `deliver_uint8`, else float in [0, 1]."""
        return pixels if self.deliver_uint8 else pixels.float().div_(255.0)


def float_images(batch: tuple) -> tuple:
    """A collated batch with its uint8 images as float in [0, 1] (the same values a dataset
    serving floats gives); float images pass unchanged."""
    images, *rest = batch
    return ([img.float().div_(255.0) if img.dtype == torch.uint8 else img for img in images], *rest)


def collate(batch):
    """Keep images, targets and metas as lists (torchvision detection takes lists)."""
    images, targets, metas = zip(*batch)
    return list(images), list(targets), list(metas)


def hflip_batch(images, targets, generator: torch.Generator):
    """Flip each image (and its boxes, and its masks where the target has them) left-right with
    probability 1/2, drawn from `generator`."""
    flips = torch.rand(len(images), generator=generator) < 0.5
    out_images, out_targets = [], []
    for image, target, flip in zip(images, targets, flips.tolist()):
        if flip:
            width = image.shape[-1]
            boxes = target["boxes"].clone()
            boxes[:, [0, 2]] = width - target["boxes"][:, [2, 0]]
            image, target = image.flip(-1), {**target, "boxes": boxes}
            if "masks" in target:
                target["masks"] = target["masks"].flip(-1)  # [N, S, S]
        out_images.append(image)
        out_targets.append(target)
    return out_images, out_targets


def scale_jitter_batch(images, targets, generator: torch.Generator, jitter: float):
    """Rescale each image by a factor drawn uniformly from [1 - jitter, 1 + jitter] (`generator`),
    then pad (smaller) or crop (larger) at the bottom-right back to its square side. Boxes scale
    with it and are clipped to the canvas; objects left with no area are dropped (with their
    labels and masks)."""
    factors = 1.0 + jitter * (2 * torch.rand(len(images), generator=generator) - 1)
    out_images, out_targets = [], []
    for image, target, factor in zip(images, targets, factors.tolist()):
        side = image.shape[-1]
        new = max(1, round(side * factor))
        resized = torch.nn.functional.interpolate(image[None], size=(new, new), mode="bilinear",
                                                  align_corners=False)[0]  # [3, S, S] -> [3, new, new]
        canvas = image.new_zeros(image.shape)
        keep = min(new, side)
        canvas[:, :keep, :keep] = resized[:, :keep, :keep]
        out_images.append(canvas)
        out_targets.append(_rescaled_target(target, new / side, side))
    return out_images, out_targets


def _rescaled_target(target: dict, factor: float, side: int) -> dict:
    if "boxes" not in target:
        return target  # an image label (classification): nothing moves
    boxes = (target["boxes"] * factor).clamp(0, side)
    kept = (boxes[:, 2] > boxes[:, 0]) & (boxes[:, 3] > boxes[:, 1])
    out = {**target, "boxes": boxes[kept], "labels": target["labels"][kept]}
    if "masks" in target:
        new = round(target["masks"].shape[-1] * factor)
        masks = torch.nn.functional.interpolate(target["masks"][kept][:, None].float(), size=(new, new),
                                                mode="nearest")[:, 0].to(target["masks"].dtype)  # [N, new, new]
        canvas = target["masks"].new_zeros((int(kept.sum()), side, side))
        keep = min(new, side)
        canvas[:, :keep, :keep] = masks[:, :keep, :keep]
        out["masks"] = canvas
    return out
