"""Duplicate handling: "avoid" never repeats a spec while redraws find new ones; "reuse" marks a
repeat with its known reward. Evolution's tournament and mutation."""

from __future__ import annotations

from controller import build_controller
from controller.base import spec_key


def _recovered(space, mode: str):
    """A random search whose history already holds its own 6th sample, with reward 0.42."""
    controller = build_controller("random", space, seed=0, duplicates=mode)
    controller.recover([(space.sample(0, 5), 0.42, {"index": 4})])
    return controller


def test_avoid_redraws_a_spec_already_evaluated(space):
    proposal = _recovered(space, "avoid").propose()
    assert proposal.index == 5 and proposal.decisions != space.sample(0, 5)
    assert "known_reward" not in proposal.meta


def test_reuse_answers_a_repeat_from_the_history(space):
    proposal = _recovered(space, "reuse").propose()
    assert proposal.decisions == space.sample(0, 5) and proposal.meta["known_reward"] == 0.42


def test_allow_proposes_a_repeat_as_drawn_without_a_known_reward(space):
    proposal = _recovered(space, "allow").propose()
    assert proposal.decisions == space.sample(0, 5) and "known_reward" not in proposal.meta


def test_avoid_never_repeats_while_redraws_find_new_specs(space):
    controller = build_controller("evolution", space, seed=0, population_size=3, sample_size=3)
    keys = []
    for k in range(30):
        proposal = controller.propose()
        keys.append(spec_key(proposal.spec))
        controller.feedback(proposal, 0.2)  # equal rewards: the same parent wins again and again
    assert len(set(keys)) == 30


def test_evolution_children_are_mutations_of_the_tournament_winner(space):
    controller = build_controller("evolution", space, seed=3, population_size=5, sample_size=5)
    for k in range(5):
        proposal = controller.propose()
        controller.feedback(proposal, 0.9 if k == 2 else 0.1)
    best = controller.population[2][0]
    child = controller.propose()
    assert child.meta == {"origin": "mutation", "parent_reward": 0.9}  # sample 5 of 5: always the best
    assert child.decisions != best and sum(a != b for a, b in zip(child.decisions, best)) >= 1
