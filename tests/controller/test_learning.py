"""Learning is real: on a known-answer reward the RL controllers raise their mean reward and the
probability of the target's choices within a couple of hundred proposals (seeded, exact runs)."""

from __future__ import annotations

import pytest

from controller import build_controller


@pytest.mark.parametrize("name", ["ppo", "reinforce"])
def test_rl_raises_mean_reward_and_target_probability(small_space, name, match_reward, drive):
    target = small_space.sample(123, 0)
    controller = build_controller(name, small_space, seed=5, batch_size=5, max_redraws=2)
    before = _mean(controller.choice_probabilities(target))
    rewards = drive(controller, match_reward(target), 200, concurrency=3)
    after = _mean(controller.choice_probabilities(target))
    first, last = _mean(rewards[:40]), _mean(rewards[-40:])
    assert last > first + 0.2, (first, last)
    assert after > before + 0.2, (before, after)  # mean probability of the target's choices


def test_random_search_does_not_learn(small_space, match_reward, drive):
    target = small_space.sample(123, 0)
    rewards = drive(build_controller("random", small_space, seed=5), match_reward(target), 200)
    assert abs(_mean(rewards[-40:]) - _mean(rewards[:40])) < 0.1


def _mean(values) -> float:
    return sum(values) / len(values)
