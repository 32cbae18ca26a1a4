"""Reward shaping: plain AP, MnasNet's FLOPs term, the failed-trial penalty, and the rule that
values a trial result (failed: penalty; no FLOPs count: plain AP; hard constraint)."""

from __future__ import annotations

import math

import pytest

from controller import ControllerError, RewardRule, shaped_reward
from search_space.trial_result import TrialResult, TrialStatus


@pytest.mark.parametrize(
    ("args", "kwargs", "expected"),
    [
        ((0.25,), {}, 0.25),
        ((0.25, 5e9), {}, 0.25),  # weight 0: FLOPs ignored
        ((0.2, 2e9), {"target_flops": 1e9, "flops_weight": -0.07}, 0.2 * 2 ** -0.07),
        ((0.2, 0.5e9), {"target_flops": 1e9, "flops_weight": -0.07}, 0.2 * 0.5 ** -0.07),
        ((0.2, 0.5e9), {"target_flops": 1e9, "flops_weight": -1.0, "hard": True}, 0.2),
        ((0.2, 2e9), {"target_flops": 1e9, "flops_weight": -1.0, "hard": True}, 0.1),
        ((None,), {}, 0.0),
        ((float("nan"),), {"failed_penalty": -0.05}, -0.05),
    ],
)
def test_shaped_reward_values(args, kwargs, expected):
    assert math.isclose(shaped_reward(*args, **kwargs), expected, rel_tol=1e-12)


def test_flops_term_needs_flops_and_target():
    with pytest.raises(ControllerError, match="needs positive flops and target_flops"):
        shaped_reward(0.3, None, target_flops=1e9, flops_weight=-0.07)


RULE = RewardRule(failed_penalty=-0.5, target_flops=1e9, flops_weight=-1.0, hard=True)


@pytest.mark.parametrize(
    ("result", "expected"),
    [
        (TrialResult(TrialStatus.OK, metrics={"ap": 0.4}, flops=2e9), 0.2),  # above target: shaped
        (TrialResult(TrialStatus.OK, metrics={"ap": 0.4}, flops=5e8), 0.4),  # hard: none below target
        (TrialResult(TrialStatus.STOPPED, metrics={"ap": 0.3}, final=False), 0.3),  # no FLOPs count: plain AP
        (TrialResult(TrialStatus.NAN_LOSS, metrics={"ap": 0.3}, flops=1e9), -0.5),
        (TrialResult.failure(TrialStatus.OOM, "out of memory"), -0.5),
        (TrialResult(TrialStatus.OK, metrics={"ap": float("nan")}, flops=1e9), -0.5),  # no finite metric
        (TrialResult(TrialStatus.OK, metrics={}, flops=1e9), -0.5),
    ],
)
def test_the_rule_decides_failed_and_stopped_trials(result, expected):
    assert math.isclose(RULE.reward(result), expected, rel_tol=1e-12)
