"""Resume: state_dict round trips through JSON; recover(history) rebuilds the same next proposal
(random, evolution) and bit-identical policy parameters (RL), also with proposals outstanding
and rewards out of order."""

from __future__ import annotations

import json

import pytest
import torch

from controller import build_controller

OPTIONS = {
    "random": {},
    "evolution": {"population_size": 4, "sample_size": 2},
    "ppo": {"batch_size": 3, "hidden_size": 32, "embedding_size": 16},  # small: a fast JSON round trip
    "reinforce": {"batch_size": 3, "hidden_size": 32, "embedding_size": 16},
}


def reward_of(decisions) -> float:
    return (sum(decisions) % 17) / 17


def feed(controller, n: int, concurrency: int, drain: bool = False) -> list:
    """n feedbacks, `concurrency` outstanding, the newest answered first (out of order); history.

    With `drain`, the proposals still outstanding after n are answered too (newest first).
    """
    history, outstanding = [], []
    while len(history) < n or (drain and outstanding):
        while len(history) < n and len(outstanding) < concurrency:
            outstanding.append(controller.propose())
        proposal = outstanding.pop()
        controller.feedback(proposal, reward_of(proposal.decisions))
        history.append((proposal.decisions, reward_of(proposal.decisions), proposal.meta))
    return history


@pytest.mark.parametrize("name", list(OPTIONS))
def test_state_dict_json_round_trip_continues_identically(space, name):
    original = build_controller(name, space, seed=3, **OPTIONS[name])
    feed(original, 7, concurrency=1)
    restored = build_controller(name, space, seed=0, **OPTIONS[name])
    restored.load_state_dict(json.loads(json.dumps(original.state_dict())))
    assert json.dumps(restored.state_dict()) == json.dumps(original.state_dict())
    for _ in range(4):
        a, b = original.propose(), restored.propose()
        assert a.decisions == b.decisions
        original.feedback(a, 0.5)
        restored.feedback(b, 0.5)


@pytest.mark.parametrize("name", list(OPTIONS))
def test_recover_gives_the_next_proposal_of_the_uninterrupted_run(space, name):
    uninterrupted = build_controller(name, space, seed=9, **OPTIONS[name])
    history = [(d, r) for d, r, _ in feed(uninterrupted, 8, concurrency=1)]
    recovered = build_controller(name, space, seed=9, **OPTIONS[name])
    recovered.recover(history)
    assert recovered.next_index == uninterrupted.next_index == 8
    assert recovered.propose().decisions == uninterrupted.propose().decisions


@pytest.mark.parametrize("name", ["random", "evolution"])
def test_recover_after_out_of_order_rewards_gives_the_next_proposal(space, name):
    uninterrupted = build_controller(name, space, seed=4, **OPTIONS[name])
    history = feed(uninterrupted, 7, concurrency=3, drain=True)  # newest answered first
    recovered = build_controller(name, space, seed=4, **OPTIONS[name])
    recovered.recover(history)
    assert recovered.next_index == uninterrupted.next_index == len(history) == 9
    assert recovered.propose().decisions == uninterrupted.propose().decisions
    if name == "evolution":
        assert recovered.population == uninterrupted.population


@pytest.mark.parametrize("name", ["ppo", "reinforce"])
@pytest.mark.parametrize("with_meta", [True, False])
def test_rl_recover_gives_identical_parameters(space, name, with_meta):
    uninterrupted = build_controller(name, space, seed=2, **OPTIONS[name])
    # out of order with 3 outstanding needs the proposals' meta; one at a time needs nothing
    history = feed(uninterrupted, 9, concurrency=3 if with_meta else 1)
    if not with_meta:
        history = [(d, r) for d, r, _ in history]
    recovered = build_controller(name, space, seed=2, **OPTIONS[name])
    recovered.recover(history)
    assert uninterrupted.version == recovered.version == 3
    for (key, a), b in zip(uninterrupted.policy.state_dict().items(), recovered.policy.state_dict().values()):
        assert torch.equal(a, b), key
    assert recovered.baseline == uninterrupted.baseline


def test_evolution_population_ages(space):
    controller = build_controller("evolution", space, seed=1, population_size=4, sample_size=2)
    history = feed(controller, 10, concurrency=1)
    assert [r for _, r in controller.population] == [r for _, r, _ in history[-4:]]
