"""The one interface and the registry: names, options, proposals, errors, import purity."""

from __future__ import annotations

import subprocess
import sys

import pytest

from controller import CONTROLLERS, ControllerError, Proposal, build_controller
from search_space import ArchSpec, UserInputError

CONTROLLER_NAMES = ("random", "evolution", "ppo", "reinforce")


def test_registry_names():
    assert tuple(sorted(CONTROLLERS)) == tuple(sorted(CONTROLLER_NAMES))


def test_unknown_name_lists_known_ones(space):
    with pytest.raises(UserInputError, match="unknown controller 'nope'; known: ppo, reinforce, evolution, random"):
        build_controller("nope", space)


@pytest.mark.parametrize("name", CONTROLLER_NAMES)
def test_unknown_option_is_named(space, name):
    with pytest.raises(ControllerError, match=r"unknown controller option\(s\) \['bogus'\]"):
        build_controller(name, space, seed=0, bogus=1)


@pytest.mark.parametrize("name", CONTROLLER_NAMES)
def test_proposals_are_valid_specs_of_the_space(space, name):
    controller = build_controller(name, space, seed=3)
    for k in range(3):
        proposal = controller.propose()
        assert isinstance(proposal, Proposal) and proposal.index == k
        assert isinstance(proposal.spec, ArchSpec)
        assert space.decode(proposal.decisions, name=f"{name}-s3-{k}") == proposal.spec
        assert space.contains(proposal.spec) == (True, "")
        controller.feedback(proposal, 0.1 * k)


@pytest.mark.parametrize("reward", [float("nan"), float("inf"), None, "0.3", True])
def test_feedback_rejects_non_finite_rewards(space, reward):
    controller = build_controller("random", space, seed=0)
    with pytest.raises(ControllerError, match="must be a finite number"):
        controller.feedback(controller.propose(), reward)


def test_bad_duplicates_mode(space):
    with pytest.raises(ControllerError, match=r"duplicates='never'; use one of \['avoid', 'reuse', 'allow'\]"):
        build_controller("random", space, duplicates="never")


def test_state_of_another_controller_is_refused(space):
    state = build_controller("random", space).state_dict()
    with pytest.raises(ControllerError, match="state of controller 'random' cannot load into 'evolution'"):
        build_controller("evolution", space).load_state_dict(state)


def test_import_of_non_rl_controllers_pulls_no_heavy_package():
    code = (
        "import sys, controller, controller.random_search, controller.evolution, controller.reward;"
        "from search_space import SearchSpace;"
        "c = controller.build_controller('evolution', SearchSpace.from_seed('resnet50'), seed=0);"
        "c.feedback(c.propose(), 0.2);"
        "print([m for m in ('torch', 'ray', 'hydra', 'omegaconf', 'numpy') if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
