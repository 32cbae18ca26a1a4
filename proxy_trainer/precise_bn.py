"""Precise BN: recompute every BatchNorm's running statistics with the final weights before
evaluation.

During a short schedule the running mean and variance are an exponential average over weights
that kept changing (momentum 0.01 averages over about the last hundred steps), so evaluation
normalizes with statistics of an older network. Here each BN layer is reset and fed `batches`
training batches in train mode, without gradients, with momentum None (PyTorch's cumulative
average: every batch weighs the same), flips off; the trained weights are not touched. Networks
with more BN layers (scale-permuted ones have about twice ResNet-FPN's) lose the most to the lag.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

import torch
from torch import nn

BN_TYPES = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d, nn.SyncBatchNorm)


def batch_norms(model: nn.Module) -> list[nn.modules.batchnorm._BatchNorm]:
    """Every BatchNorm layer of a model that tracks running statistics."""
    return [m for m in model.modules() if isinstance(m, BN_TYPES) and m.track_running_stats]


def forward_detector_features(model, images: list[torch.Tensor]) -> None:
    """Backbone and head of a torchvision detector in train mode, without targets or losses."""
    batch, _ = model.transform(images)
    features = list(model.backbone(batch.tensors).values())
    model.head(features)


@torch.no_grad()
def recompute_bn_statistics(model: nn.Module, loader, batches: int, device: torch.device,
                            forward: Callable[[nn.Module, list], None] = forward_detector_features) -> int:
    """Reset and re-estimate every BN layer's running statistics on `batches` loader batches.

    Args:
        model: the model (by default a torchvision detector: `transform`, `backbone`, `head`);
            left in eval mode.
        loader: yields `collate`d (images, targets, metas) training batches, unflipped.
        batches: how many batches to average over (the loader's length if it has fewer).
        device: where the model lives.
        forward: runs the model on a list of images without targets (a task's
            `forward_features`; by default the detector's backbone and head).
    Returns:
        the number of batches used (0 when the model has no BN layer or `batches` is 0).
    """
    norms = batch_norms(model)
    if not norms or batches <= 0:
        return 0
    momenta = [bn.momentum for bn in norms]
    for bn in norms:
        bn.reset_running_stats()
        bn.momentum = None  # cumulative moving average over the batches below
    model.train()
    used = 0
    try:
        for images, _, _ in itertools.islice(loader, batches):
            forward(model, [img.to(device) for img in images])
            used += 1
    finally:
        for bn, momentum in zip(norms, momenta):
            bn.momentum = momentum
        model.eval()
    return used
