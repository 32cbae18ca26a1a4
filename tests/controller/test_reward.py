"""Reward shaping: plain AP, MnasNet's FLOPs term, the failed-trial penalty."""

from __future__ import annotations

import math

import pytest

from controller import ControllerError, shaped_reward


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
