"""The TF-style RetinaNet head around torchvision's heads (docs/facts.md §6.1).

Per tower (class and box): `num_convs` shared 3x3 convs with bias, each followed by a BN of its
own per pyramid level and the activation (TPU `RetinanetHead`), then torchvision's output conv.
The class head keeps torchvision's prior-probability init and computes its loss with
torchvision's `sigmoid_focal_loss` at the paper's alpha 0.25 / gamma 1.5 (torchvision's own head
hard-codes gamma 2). The box head reuses torchvision's loss unchanged.
"""

from __future__ import annotations

from itertools import pairwise

import torch
from torch import Tensor, nn
from torchvision.models.detection.retinanet import (
    RetinaNetClassificationHead,
    RetinaNetHead,
    RetinaNetRegressionHead,
)
from torchvision.ops import sigmoid_focal_loss

from proxy_trainer.modeling.layers import make_activation
from proxy_trainer.modeling.model_config import ModelConfig

FOCAL_ALPHA = 0.25  # docs/facts.md §6.1: TPU retinanet_config focal loss alpha
FOCAL_GAMMA = 1.5  # docs/facts.md §6.1: TPU retinanet_config focal loss gamma (torchvision default: 2)
HEAD_INIT_STD = 0.01  # TPU head convs: random normal, stddev 0.01


class ConvTower(nn.Module):
    """Shared 3x3 convs (with bias), each followed by a per-level BN and the activation."""

    def __init__(self, in_channels: int, config: ModelConfig, num_levels: int):
        super().__init__()
        widths = [in_channels] + [config.head_num_filters] * config.head_num_convs
        self.convs = nn.ModuleList(nn.Conv2d(a, b, 3, padding=1, bias=True) for a, b in pairwise(widths))
        self.norms = nn.ModuleList(
            nn.ModuleList(nn.BatchNorm2d(b, momentum=config.bn_momentum) for _ in range(num_levels)) for b in widths[1:]
        )
        self.act = make_activation(config.activation)
        self.out_channels = widths[-1]
        for conv in self.convs:
            nn.init.normal_(conv.weight, std=HEAD_INIT_STD)
            nn.init.zeros_(conv.bias)

    def forward(self, x: Tensor, level_index: int) -> Tensor:
        for conv, norms in zip(self.convs, self.norms):
            x = self.act(norms[level_index](conv(x)))
        return x


def flatten_anchors(x: Tensor, values_per_anchor: int) -> Tensor:
    """[N, A*K, H, W] -> [N, H*W*A, K], the layout torchvision's RetinaNet expects."""
    n, _, h, w = x.shape
    x = x.view(n, -1, values_per_anchor, h, w)  # [N, A, K, H, W]
    return x.permute(0, 3, 4, 1, 2).reshape(n, -1, values_per_anchor)  # [N, HWA, K]


class FocalClassificationHead(RetinaNetClassificationHead):
    """torchvision's class head with a TF-style tower and focal loss at the paper's gamma."""

    def __init__(self, in_channels: int, num_anchors: int, num_classes: int, config: ModelConfig, num_levels: int):
        tower = ConvTower(in_channels, config, num_levels)
        super().__init__(tower.out_channels, num_anchors, num_classes)
        self.conv = tower  # replaces torchvision's 4 plain convs
        self.focal_alpha, self.focal_gamma = FOCAL_ALPHA, FOCAL_GAMMA

    def forward(self, x: list[Tensor]) -> Tensor:
        logits = [flatten_anchors(self.cls_logits(self.conv(f, i)), self.num_classes) for i, f in enumerate(x)]
        return torch.cat(logits, dim=1)  # [N, sum HWA, num_classes]

    def compute_loss(self, targets, head_outputs, matched_idxs) -> Tensor:
        """Mean over images of the focal loss summed over valid anchors / number of foreground."""
        losses = [
            self._image_loss(t["labels"], logits, matched)
            for t, logits, matched in zip(targets, head_outputs["cls_logits"], matched_idxs)
        ]
        return torch.stack(losses).mean()

    def _image_loss(self, labels: Tensor, logits: Tensor, matched: Tensor) -> Tensor:
        foreground = matched >= 0
        target = torch.zeros_like(logits)  # [HWA, K] one-hot of the matched class
        target[foreground, labels[matched[foreground]]] = 1.0
        valid = matched != self.BETWEEN_THRESHOLDS
        loss = sigmoid_focal_loss(
            logits[valid], target[valid], alpha=self.focal_alpha, gamma=self.focal_gamma, reduction="sum"
        )
        return loss / foreground.sum().clamp(min=1)


class TowerRegressionHead(RetinaNetRegressionHead):
    """torchvision's box head (and its loss) with a TF-style tower."""

    def __init__(self, in_channels: int, num_anchors: int, config: ModelConfig, num_levels: int):
        tower = ConvTower(in_channels, config, num_levels)
        super().__init__(tower.out_channels, num_anchors)
        self.conv = tower  # replaces torchvision's 4 plain convs

    def forward(self, x: list[Tensor]) -> Tensor:
        boxes = [flatten_anchors(self.bbox_reg(self.conv(f, i)), 4) for i, f in enumerate(x)]
        return torch.cat(boxes, dim=1)  # [N, sum HWA, 4]


class TFRetinaNetHead(RetinaNetHead):
    """torchvision's RetinaNetHead (forward + compute_loss) holding the two heads above."""

    def __init__(self, in_channels: int, num_anchors: int, num_classes: int, config: ModelConfig):
        nn.Module.__init__(self)  # RetinaNetHead.__init__ would build default heads only to drop them
        num_levels = config.max_level - config.min_level + 1
        self.classification_head = FocalClassificationHead(in_channels, num_anchors, num_classes, config, num_levels)
        self.regression_head = TowerRegressionHead(in_channels, num_anchors, config, num_levels)
