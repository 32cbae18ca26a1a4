"""The reward of a trial, decided here alone: plain AP, or AP x (FLOPs / target)^w (MnasNet
eq. 2) for FLOPs-aware search, and what a failed or stopped trial is worth.

`RewardRule` (the `reward` section of the search config) values a `TrialResult`: a failed
trial (status nan_loss / oom / error, or no finite reward metric) gets `failed_penalty`; a trial
without a FLOPs count (stopped by ASHA on an epoch report, which carries none) gets its plain
metric; any other gets `shaped_reward`.

Defaults: `flops_weight=0` (the paper's plain AP). For a soft FLOPs constraint MnasNet uses
w = -0.07 (2x the FLOPs is worth ~5% relative AP); w = -1 with `hard=True` penalizes only models
above target (MnasNet's hard constraint: w = 0 at or below target). A failed trial (error, NaN
loss, no metric) gets `failed_penalty`, default 0.0: the lowest AP a model can score, so a
failure is as bad as the worst working model without dragging the moving baseline below the
range of real rewards.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from controller.base import ControllerError
from search_space.trial_result import TrialResult

DEFAULT_FAILED_PENALTY = 0.0


@dataclass(frozen=True)
class RewardRule:
    """How a trial result becomes the controller's reward (see the module docstring)."""

    failed_penalty: float = DEFAULT_FAILED_PENALTY  # reward of a failed trial
    target_flops: float | None = None  # MnasNet FLOPs target (None: plain metric)
    flops_weight: float = 0.0  # exponent w of the FLOPs term; 0: plain metric
    hard: bool = False  # the FLOPs term only above target (MnasNet's hard constraint)

    def reward(self, result: TrialResult) -> float:
        """The reward of `result`: the penalty, its plain metric, or the shaped metric."""
        if result.status.failed or result.score is None:
            return float(self.failed_penalty)
        if result.flops is None:
            return float(result.score)
        return shaped_reward(result.score, result.flops, target_flops=self.target_flops,
                             flops_weight=self.flops_weight, hard=self.hard, failed_penalty=self.failed_penalty)


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
