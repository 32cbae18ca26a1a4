"""Every cheap estimate of one architecture on a detection tier, computed without training: its
parameters and FLOPs, and the zero-cost scores of `zero_cost.py` on one fixed batch.

The untrained detector is the one a trial of the tier would start from (`prepare_model`: same
seed, same width, same input size). The batch is fixed: the first `batch_size` images of the
tier's training split in file order, letterboxed, unflipped, so every architecture is scored on
the same pixels and boxes. Each score is timed; the whole runs on the CPU.
"""

from __future__ import annotations

import time

import torch

from proxy_trainer.config import DataConfig, ProxyConfig
from proxy_trainer.data.images import DetectionDataset, collate
from proxy_trainer.data.prepare import prepare_data
from proxy_trainer.estimates.zero_cost import grad_norm, naswot, snip, synflow
from search_space import ArchSpec

BATCH_SIZE = 8  # images of the fixed batch (NASWOT's kernel is 8 x 8)


def fixed_batch(proxy: ProxyConfig, data: DataConfig, batch_size: int = BATCH_SIZE) -> tuple[list, list, int]:
    """(images, targets, number of classes): the first training images of the tier's data."""
    prepared = prepare_data(data)
    dataset = DetectionDataset(prepared.train, proxy.image_size, cache=False)
    images, targets, _ = collate([dataset[i] for i in range(min(batch_size, len(dataset)))])
    return images, targets, prepared.train.num_classes


def estimate_architecture(spec: ArchSpec | None, proxy: ProxyConfig, data: DataConfig,
                          batch: tuple[list, list, int] | None = None) -> dict:
    """Params, FLOPs and the four zero-cost scores of `spec` (None: r50-fpn) on the tier, with the
    seconds each took (`batch`: a `fixed_batch`, made here when not given)."""
    from proxy_trainer.train import TaskParts, prepare_model

    images, targets, classes = batch or fixed_batch(proxy, data)
    parts = TaskParts.of(None)
    params, flops = parts.runner.count(spec, proxy, classes, parts.options)
    detector = prepare_model(spec, proxy, classes, torch.device("cpu"), parts)
    scores: dict = {"params": params, "flops": flops}
    timed = {
        "grad_norm": lambda: grad_norm(detector, images, targets),
        "snip": lambda: snip(detector, images, targets),
        "synflow": lambda: synflow(detector.backbone, proxy.image_size),
        "naswot": lambda: naswot(detector.backbone, torch.stack(images)),
    }
    for name, score in timed.items():
        start = time.perf_counter()
        scores[name] = score()
        scores[f"{name}_seconds"] = round(time.perf_counter() - start, 3)
    return scores
