"""Determinism: the k-th proposal depends only on (seed, k) and the rewards fed back; exact
golden proposals for a fixed seed; random search is `space.sample`; evolution seeds with r50-sd."""

from __future__ import annotations

import hashlib

import pytest

from controller import build_controller

# small batches/populations so a few proposals already exercise learning and mutation
OPTIONS = {
    "random": {},
    "evolution": {"population_size": 3, "sample_size": 2},
    "ppo": {"batch_size": 2},
    "reinforce": {"batch_size": 2},
}

# sha256[:12] of repr(decisions) of proposals 0..5 with seed 11 and reward sum(decisions)/200
GOLDEN = {
    "random": ["4083086c6b3d", "8cd81a63fc8e", "ee6c3a0f32f8", "f9fed02156f4", "2f8fa5302854", "f9645ff0df64"],
    # the initial population is random search's first proposals; mutation starts at k = 3
    "evolution": ["4083086c6b3d", "8cd81a63fc8e", "ee6c3a0f32f8", "33e3a4cdce1d", "abcc02c30f85", "04eb5fe5d940"],
    "ppo": ["4a7b5f8293ed", "0654ac14d9a9", "4b071a659d1a", "9aeba02ff263", "d7d841eae3e6", "83f16b04f846"],
    "reinforce": ["a15d0b9fffa7", "1b3272e7a4e0", "87183a8430fe", "9ae5748c76f6", "3d1826dc2244", "b6f4f1e92ef5"],
}


def trajectory(space, name: str, seed: int, n: int = 6) -> list[tuple[int, ...]]:
    """Decisions of the first n proposals, each answered at once with sum(decisions)/200."""
    controller = build_controller(name, space, seed=seed, **OPTIONS[name])
    out = []
    for _ in range(n):
        proposal = controller.propose()
        controller.feedback(proposal, sum(proposal.decisions) / 200)
        out.append(proposal.decisions)
    return out


def digest(decisions: tuple[int, ...]) -> str:
    return hashlib.sha256(repr(tuple(decisions)).encode()).hexdigest()[:12]


@pytest.mark.parametrize("name", list(OPTIONS))
def test_golden_proposals(space, name):
    assert [digest(d) for d in trajectory(space, name, seed=11)] == GOLDEN[name]


@pytest.mark.parametrize("name", list(OPTIONS))
def test_same_seed_same_proposals_other_seed_others(space, name):
    first = trajectory(space, name, seed=4, n=4)
    assert trajectory(space, name, seed=4, n=4) == first
    assert all(a != b for a, b in zip(trajectory(space, name, seed=5, n=4), first))


@pytest.mark.parametrize("seed", [0, 7])
def test_random_search_is_the_spaces_seeded_sample(space, seed):
    controller = build_controller("random", space, seed=seed)
    assert [controller.propose().decisions for _ in range(5)] == [space.sample(seed, k) for k in range(5)]


def test_evolution_starts_from_the_seed_architecture_then_seeded_samples(space):
    from search_space import get_builtin

    controller = build_controller("evolution", space, seed=2, seed_arch="r50-sd", population_size=4, sample_size=2)
    proposals = [controller.propose() for _ in range(4)]
    assert proposals[0].decisions == space.encode(get_builtin("r50-sd"))
    assert [p.decisions for p in proposals[1:]] == [space.sample(2, k) for k in (1, 2, 3)]
