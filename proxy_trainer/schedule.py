"""The learning-rate schedule of proxy training: linear warm-up, then cosine or step decay.

`lr_factor` is a pure function of the step, so `torch.optim.lr_scheduler.LambdaLR` applies it
and tests can check exact values.
"""

from __future__ import annotations

import math


def lr_factor(step: int, total: int, *, warmup: float, warmup_factor: float, schedule: str,
              milestones: tuple[float, ...] = (), gamma: float = 0.1) -> float:
    """Multiplier of the peak learning rate at `step` (0-based) of `total` steps.

    Args:
        warmup: fraction of steps ramping linearly from `warmup_factor` to 1.
        schedule: 'cosine' (1 -> 0 over the steps after warm-up) or 'step' (x gamma at each
            milestone, given as fractions of `total`).
    Returns:
        the factor (1.0 at the end of warm-up).
    """
    warm = round(warmup * total)
    if step < warm:
        return warmup_factor + (1.0 - warmup_factor) * step / warm
    if schedule == "cosine":
        span = max(1, total - warm)
        return 0.5 * (1.0 + math.cos(math.pi * min(step - warm, span) / span))
    return gamma ** sum(step >= m * total for m in milestones)
