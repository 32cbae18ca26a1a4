"""Zero-cost scores of an untrained detector on one fixed batch: estimates of how well the
architecture will train, computed at initialisation in one or two passes.

What each scores, with which loss and in which BN mode:
- `grad_norm`: the whole detector; the sum over parameters of the L2 norm of the gradient of its
  training loss (RetinaNet's focal + box losses) on the batch; BN in train mode (batch statistics).
- `snip`: the same gradients, scored as the sum of |weight x gradient| (connection sensitivity).
- `synflow`: the backbone only; every parameter replaced by its absolute value, BN in eval mode
  at its initial statistics (an identity), an all-ones input in float64, R = the sum of every
  output level; the score is the sum of weight x dR/dweight. Data-free and label-free.
- `naswot`: the backbone only; the binary code of every ReLU unit's activity for each image of
  the batch (BN in train mode), K[i, j] = number of units on which images i and j agree; the
  score is log|det K| (distinct codes for distinct images give a larger determinant).
The model is never changed: scores run on a deep copy, seeded, on the CPU.
"""

from __future__ import annotations

import copy

import torch
from torch import nn

SCORES = ("grad_norm", "snip", "synflow", "naswot")


def _loss_gradients(detector: nn.Module, images: list, targets: list) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """(weight, gradient) of every parameter after one backward pass of the training loss."""
    model = copy.deepcopy(detector).train()
    model.zero_grad(set_to_none=True)
    sum(model(images, targets).values()).backward()
    return [(p.detach(), p.grad.detach()) for p in model.parameters() if p.grad is not None]


def grad_norm(detector: nn.Module, images: list, targets: list) -> float:
    """Sum of per-parameter gradient L2 norms of the training loss (see the module docstring)."""
    return float(sum(g.norm() for _, g in _loss_gradients(detector, images, targets)))


def snip(detector: nn.Module, images: list, targets: list) -> float:
    """Sum of |weight x gradient| of the training loss (see the module docstring)."""
    return float(sum((w * g).abs().sum() for w, g in _loss_gradients(detector, images, targets)))


def synflow(backbone: nn.Module, image_size: int) -> float:
    """Synaptic flow of the backbone with absolute weights on an all-ones input (float64)."""
    model = copy.deepcopy(backbone).double().eval()
    with torch.no_grad():
        for p in model.parameters():
            p.abs_()
    ones = torch.ones(1, 3, image_size, image_size, dtype=torch.float64)
    total = sum(level.sum() for level in model(ones).values())
    total.backward()
    return float(sum((p.detach() * p.grad).sum() for p in model.parameters() if p.grad is not None))


def naswot(backbone: nn.Module, images: torch.Tensor) -> float:
    """log|det K| of the images' ReLU activity codes in the backbone (see the module docstring).

    Args:
        images: a batch [N, 3, S, S] (N >= 2).
    """
    model = copy.deepcopy(backbone).train()
    codes: list[torch.Tensor] = []
    hooks = [m.register_forward_hook(lambda _m, _in, out: codes.append((out > 0).flatten(1).double()))
             for m in model.modules() if isinstance(m, nn.ReLU)]
    with torch.no_grad():
        model(images)
    for hook in hooks:
        hook.remove()
    active = torch.cat(codes, dim=1)  # [N, units]
    agree = active @ active.T + (1 - active) @ (1 - active).T  # [N, N] units on which i and j agree
    return float(torch.linalg.slogdet(agree).logabsdet)
