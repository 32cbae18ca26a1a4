"""Loader throughput (`make bench-data`): images per second per CPU core at a tier's input size,
decoding the JPEG files each epoch (today's path without the input cache) against reading the
input cache, with 0, 1 and 2 loader workers.

Data: a generated COCO-like set (default 2,000 JPEGs of 640x480 at quality 90: shaded shapes on
gradients with sensor-like noise, ~7 boxes per image with COCO's small/medium/large mix), written
once into the output folder's `data_loader_set/` (reused if present). Each measurement iterates a
DataLoader (batch 8, the training collate) over `--images` images after one warm-up batch.
Per core: images/s divided by the cores doing the decoding (1 without workers, else the worker
count). With workers the items cross as uint8 images, as the trainer's loaders do, and the
training process turns them into floats (its share is not counted in "per core").

Also measured, for choosing the cache's form (one core, the same images letterboxed to the
input size): reading the memory-mapped uint8 array (the chosen form) against decoding JPEG
shards of the letterboxed images with `torchvision.io.decode_jpeg` (quality 90), each with its
size on disk extrapolated to COCO train2017 (118,287 images).

Usage: python benchmarks/data_loader.py [--size 512] [--images 400] [--count 2000] [--quick] [--out DIR]
Writes results/benchmarks/data_loader.json (or DIR/data_loader.json).
"""

from __future__ import annotations

import argparse
import io
import json
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import RESULTS_DIR, print_table, write_json

NAME = "data_loader"
COCO_TRAIN_IMAGES = 118_287
FULL = {"count": 2000, "images": 400, "size": 512}
QUICK = {"count": 24, "images": 16, "size": 64}
WORKERS = (0, 1, 2)
BATCH = 8
TARGET = 5.0  # the cache per core over today's path per core


# ---- the generated set -----------------------------------------------------------------------
def generate_set(folder: Path, count: int, seed: int = 0) -> Path:
    """`count` JPEGs of 640x480 (portrait for every seventh) with COCO-like boxes and a COCO
    annotation file; returns the annotation file (kept if it is already there)."""
    annotations = folder / "annotations.json"
    if annotations.exists() and len(json.loads(annotations.read_text())["images"]) == count:
        return annotations
    (folder / "images").mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    images, objects = [], []
    for i in range(count):
        width, height = (480, 640) if i % 7 == 6 else (640, 480)
        boxes = [coco_like_box(rng, width, height) for _ in range(rng.randint(1, 13))]
        name = f"{i:06d}.jpg"
        render(boxes, width, height, rng).save(folder / "images" / name, quality=90)
        images.append({"id": i + 1, "file_name": name, "width": width, "height": height})
        for box in boxes:
            objects.append({"id": len(objects) + 1, "image_id": i + 1, "category_id": rng.choice((1, 2, 3, 18, 44)),
                            "bbox": list(box), "area": box[2] * box[3], "iscrowd": 0})
    categories = [{"id": c, "name": f"class{c}"} for c in (1, 2, 3, 18, 44)]
    annotations.write_text(json.dumps({"images": images, "annotations": objects, "categories": categories}))
    return annotations


def coco_like_box(rng: random.Random, width: int, height: int) -> tuple[float, float, float, float]:
    """An xywh box whose side falls in COCO's small (41%), medium (34%) or large (25%) range."""
    draw = rng.random()
    side = rng.uniform(8, 32) if draw < 0.41 else rng.uniform(32, 96) if draw < 0.75 else rng.uniform(96, 400)
    w, h = min(width, side * rng.uniform(0.7, 1.4)), min(height, side * rng.uniform(0.7, 1.4))
    return round(rng.uniform(0, width - w), 1), round(rng.uniform(0, height - h), 1), round(w, 1), round(h, 1)


def render(boxes, width: int, height: int, rng: random.Random):
    """A gradient with one shaded shape per box and mild noise (JPEG sizes like photos')."""
    import numpy as np
    from PIL import Image, ImageDraw

    ys, xs = np.mgrid[0:height, 0:width]
    base = np.stack([(xs * rng.uniform(0.1, 0.4) + ys * rng.uniform(0.1, 0.4) + rng.uniform(0, 80)) % 256
                     for _ in range(3)], axis=-1)
    noise = np.random.default_rng(rng.randrange(2**32)).normal(0, 12, base.shape)
    img = Image.fromarray(np.clip(base + noise, 0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(img)
    for x, y, w, h in boxes:
        color = tuple(rng.randrange(256) for _ in range(3))
        (draw.ellipse if rng.random() < 0.5 else draw.rectangle)([x, y, x + w, y + h], fill=color)
    return img


# ---- measurements ----------------------------------------------------------------------------
def loader_rate(dataset, images: int, workers: int) -> float:
    """Images per second of the trainer's loader over the first `images` items (after one warm-up
    batch); with workers, as in training, they hand over uint8 images and the training process
    makes the floats."""
    import torch

    from proxy_trainer.data.images import collate
    from proxy_trainer.runtime import OrderKeepingLoader

    dataset.deliver_uint8 = workers > 0
    subset = torch.utils.data.Subset(dataset, range(min(images + BATCH, len(dataset))))
    subset.deliver_uint8 = dataset.deliver_uint8  # the loader reads it from the dataset it is given
    loader = OrderKeepingLoader(subset, batch_size=BATCH, num_workers=workers, collate_fn=collate)
    iterator = iter(loader)
    next(iterator)  # warm-up: workers started, first files opened
    seen, started = 0, time.perf_counter()
    for batch, _, _ in iterator:
        seen += len(batch)
    return seen / (time.perf_counter() - started)


def form_candidates(cache, size: int, images: int) -> dict:
    """One core: the memory-mapped array against JPEG shards of the same letterboxed images."""
    import torch
    from PIL import Image
    from torchvision.io import decode_jpeg

    count = min(images, len(cache))
    started = time.perf_counter()
    for i in range(count):
        cache.pixels(i)[0].float()
    raw_rate = count / (time.perf_counter() - started)
    encoded = []
    for i in range(count):
        buffer = io.BytesIO()
        Image.fromarray(cache.pixels(i)[0].permute(1, 2, 0).numpy()).save(buffer, format="JPEG", quality=90)
        encoded.append(torch.frombuffer(bytearray(buffer.getvalue()), dtype=torch.uint8))
    started = time.perf_counter()
    for data in encoded:
        decode_jpeg(data).float()
    jpeg_rate = count / (time.perf_counter() - started)
    mean_jpeg = sum(len(e) for e in encoded) / count
    return {
        "memmap_uint8": {"images_per_second": round(raw_rate, 1), "bytes_per_image": 3 * size * size,
                         "coco_train_gb": round(COCO_TRAIN_IMAGES * 3 * size * size / 1e9, 1)},
        "jpeg_shards_q90": {"images_per_second": round(jpeg_rate, 1), "bytes_per_image": round(mean_jpeg),
                            "coco_train_gb": round(COCO_TRAIN_IMAGES * mean_jpeg / 1e9, 1)},
    }


def measure(annotations: Path, cfg: dict, cache_dir: Path) -> dict:
    """Loader rates of both paths at every worker count, the cache's build time and the forms."""
    import torch

    from proxy_trainer.config import DataConfig
    from proxy_trainer.data.images import DetectionDataset
    from proxy_trainer.data.input_cache import ensure_input_cache
    from proxy_trainer.data.prepare import prepare_data

    torch.set_num_threads(1)
    data = DataConfig(kind="coco", images=str(annotations.parent / "images"), annotations=str(annotations),
                      heldout_images=1, input_cache_dir=str(cache_dir))
    split = prepare_data(data).train
    started = time.perf_counter()
    cache = ensure_input_cache(split.images, cfg["size"], str(cache_dir))
    build = time.perf_counter() - started
    paths = {"decode": DetectionDataset(split, cfg["size"]), "cache": DetectionDataset(split, cfg["size"], inputs=cache)}
    rates = {path: {w: loader_rate(dataset, cfg["images"], w) for w in WORKERS} for path, dataset in paths.items()}
    per_core = {path: {w: rate / max(1, w) for w, rate in by.items()} for path, by in rates.items()}
    return {"images_in_set": len(split.images), "cache_build_seconds": round(build, 1),
            "cache_build_images_per_second": round(len(split.images) / build, 1),
            "images_per_second": rates, "per_core": per_core,
            "cache_over_decode_per_core": {w: per_core["cache"][w] / per_core["decode"][w] for w in WORKERS},
            "forms": form_candidates(cache, cfg["size"], cfg["images"])}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a tiny set and size (tests)")
    for key, default in FULL.items():
        parser.add_argument(f"--{key}", type=int, help=f"default {default}")
    parser.add_argument("--out", type=Path, default=RESULTS_DIR)
    parser.add_argument("--work", type=Path, default=None, help="folder of the generated set and its cache")
    args = parser.parse_args(argv)
    cfg = {k: getattr(args, k) or v for k, v in (QUICK if args.quick else FULL).items()}
    work = args.work or Path(__file__).resolve().parent.parent / "results" / "runs" / NAME
    started = time.perf_counter()
    annotations = generate_set(work / f"set-{cfg['count']}", cfg["count"])
    result = measure(annotations, cfg, work / "inputs")
    print_table(["path", *[f"{w} workers img/s/core" for w in WORKERS]],
                [[p, *[f"{result['per_core'][p][w]:.1f}" for w in WORKERS]] for p in ("decode", "cache")])
    ratios = result["cache_over_decode_per_core"]
    print("cache / decode per core: " + ", ".join(f"{w} workers x{r:.1f}" for w, r in ratios.items())
          + f" (target x{TARGET:g}: {'met' if min(ratios.values()) >= TARGET else 'not met'})")
    print_table(["cache form", "img/s (1 core)", "bytes/image", "COCO train GB"],
                [[k, v["images_per_second"], v["bytes_per_image"], v["coco_train_gb"]] for k, v in result["forms"].items()])
    payload = {"settings": cfg, "target": TARGET, **result, "seconds": round(time.perf_counter() - started, 1),
               "gpu_images_per_second": None,
               "cores_per_gpu": "not yet known: the GPU's training images/s at coco512 has not been measured "
                                "(no GPU lent yet); cores needed = GPU images/s / the cache's images/s per core"}
    print(f"wrote {write_json(NAME, payload, args.out)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
