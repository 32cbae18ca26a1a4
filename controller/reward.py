"""Reward shaping: plain AP, or AP x (FLOPs / target)^w (MnasNet eq. 2) for FLOPs-aware search,
and the penalty a failed trial gets.

Defaults: `flops_weight=0` (the paper's plain AP). For a soft FLOPs constraint MnasNet uses
w = -0.07 (2x the FLOPs is worth ~5% relative AP); w = -1 with `hard=True` penalizes only models
above target (MnasNet's hard constraint: w = 0 at or below target). A failed trial (error, NaN
loss, no metric) gets `failed_penalty`, default 0.0: the lowest AP a model can score, so a
failure is as bad as the worst working model without dragging the moving baseline below the
range of real rewards.
"""

from __future__ import annotations

import math

from controller.base import ControllerError

DEFAULT_FAILED_PENALTY = 0.0


def shaped_reward(ap: float | None, flops: float | None = None, *, target_flops: float | None = None,
                  flops_weight: float = 0.0, hard: bool = False,
                  failed_penalty: float = DEFAULT_FAILED_PENALTY) -> float:
    """The controller's reward for one trial.

    Args:
        ap: held-out AP; None or NaN marks a failed trial.
        flops: the model's multiply-adds (needed when flops_weight != 0).
        target_flops: the FLOPs target T.
        flops_weight: exponent w (negative to prefer cheaper models); 0 gives plain AP.
        hard: apply the term only above target (MnasNet's hard constraint).
        failed_penalty: reward of a failed trial.
    Returns:
        ap * (flops / target_flops) ** w, or ap, or failed_penalty.
    Raises:
        ControllerError: flops_weight != 0 without positive flops and target_flops.
    """
    if ap is None or (isinstance(ap, float) and math.isnan(ap)):
        return float(failed_penalty)
    if flops_weight == 0.0:
        return float(ap)
    if not flops or not target_flops or flops <= 0 or target_flops <= 0:
        raise ControllerError(
            f"flops_weight={flops_weight} needs positive flops and target_flops; got {flops}, {target_flops}"
        )
    ratio = flops / target_flops
    if hard and ratio <= 1.0:
        return float(ap)
    return float(ap) * ratio ** flops_weight
