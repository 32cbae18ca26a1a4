"""Shared fixtures of the controller tests: the real search spaces and a known-answer reward."""

from __future__ import annotations

import pytest

from search_space import SearchSpace


@pytest.fixture(scope="session")
def space() -> SearchSpace:
    """SpineNet-49's search space (70 decisions)."""
    return SearchSpace.from_seed("resnet50")


@pytest.fixture(scope="session")
def small_space() -> SearchSpace:
    """R23-SP30's space (30 decisions): the same machinery, cheaper for learning tests."""
    return SearchSpace.from_seed("r23-sp30")


def _match_reward(target: tuple[int, ...]):
    def reward(decisions: tuple[int, ...]) -> float:
        return sum(a == b for a, b in zip(decisions, target)) / len(target)
    return reward


@pytest.fixture(scope="session")
def match_reward():
    """Known-answer reward factory: the fraction of decisions equal to a target's (optimum 1.0)."""
    return _match_reward


def _drive(controller, reward, n: int, concurrency: int = 1) -> list[float]:
    outstanding, rewards = [], []
    while len(rewards) < n:
        while len(outstanding) < concurrency and len(rewards) + len(outstanding) < n:
            outstanding.append(controller.propose())
        proposal = outstanding.pop(0)
        rewards.append(reward(proposal.decisions))
        controller.feedback(proposal, rewards[-1])
    return rewards


@pytest.fixture(scope="session")
def drive():
    """`drive(controller, reward, n, concurrency=1)`: propose n times keeping `concurrency`
    outstanding, feed back the oldest first; returns the rewards in feedback order."""
    return _drive
