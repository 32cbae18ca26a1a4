"""The classification reward: top-1 (and top-5) accuracy of the classifier on the held-out split.

Inputs are normalised with ImageNet's channel mean and standard deviation, as torchvision's
detection transform does for the detector, so both tasks see the same pixels. Top-5 is None when
the data set has 5 classes or fewer (every answer would count).
"""

from __future__ import annotations

import torch

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
TOP5 = 5


def normalized_batch(images: list[torch.Tensor]) -> torch.Tensor:
    """Images [3, S, S] in [0, 1] as one normalised batch [N, 3, S, S]."""
    batch = torch.stack(images)  # N x [3, S, S] -> [N, 3, S, S]
    mean = batch.new_tensor(IMAGENET_MEAN).view(1, 3, 1, 1)
    std = batch.new_tensor(IMAGENET_STD).view(1, 3, 1, 1)
    return (batch - mean) / std


def batch_labels(targets: list[dict], device: torch.device) -> torch.Tensor:
    """The batch's labels [N]."""
    return torch.cat([t["labels"] for t in targets]).to(device)


@torch.no_grad()
def accuracy(model: torch.nn.Module, loader, device: torch.device, num_classes: int) -> dict[str, float | None]:
    """Top-1 and top-5 accuracy over a loader of (images, targets, metas) batches, in eval mode."""
    model.eval()
    top1 = top5 = seen = 0
    for images, targets, _ in loader:
        logits = model(normalized_batch([img.to(device) for img in images]))  # [N, K]
        labels = batch_labels(targets, device)
        ranked = logits.topk(min(TOP5, num_classes), dim=1).indices  # [N, min(5, K)]
        top1 += int((ranked[:, 0] == labels).sum())
        top5 += int((ranked == labels[:, None]).any(dim=1).sum())
        seen += len(labels)
    if not seen:
        return {"top1": None, "top5": None}
    return {"top1": top1 / seen, "top5": top5 / seen if num_classes > TOP5 else None}
