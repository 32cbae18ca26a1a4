"""The predictor screen: spec features with hand-checked values, the predictor's determinism, and
the screened controller's rules (warmup pass-through, the predicted best is trained, the inner
controller is fed nothing for screened-out proposals, each screened proposal is handed over
once, checkpoint and recovery continue exactly, bad options are refused)."""

from __future__ import annotations

import json
import statistics
import subprocess
import sys

import pytest

from controller import (
    ControllerError,
    RewardPredictor,
    ScreenConfig,
    ScreenedController,
    build_controller,
    build_screened,
    feature_names,
    spec_features,
)
from controller.base import spec_key
from search_space import SearchSpace, get_builtin

pytestmark = pytest.mark.usefixtures("one_thread")

SMALL_PPO = {"batch_size": 3, "hidden_size": 32, "embedding_size": 16}
SMALL_EVOLUTION = {"population_size": 4, "sample_size": 2}


def reward_of(spec) -> float:
    """A seeded, learnable reward: the share of residual blocks plus a small level term."""
    residual = sum(b.block_fn == "residual" for b in spec.blocks)
    return residual / len(spec.blocks) + 0.01 * spec.blocks[0].level


def rounds(controller, n: int) -> list:
    """n propose/feedback rounds, one outstanding; the trained proposals in order."""
    trained = []
    for _ in range(n):
        proposal = controller.propose()
        controller.feedback(proposal, reward_of(proposal.spec))
        trained.append(proposal)
    return trained


# ---- features -------------------------------------------------------------------------------
def test_spinenet49_features_by_hand():
    spec = get_builtin("spinenet-49")
    values, names = spec_features(spec), feature_names(spec)
    assert len(values) == len(names) == 15 * 6
    assert names[:6] == ("b0_level", "b0_bottleneck", "b0_parent0_level", "b0_parent1_level",
                         "b0_parent0_distance", "b0_parent1_distance")
    assert names[3 * 6 + 2] == "b3_parent0_level"

    def block(k):
        return values[6 * k:6 * k + 6]

    assert block(0) == (2.0, 1.0, 2.0, 2.0, 2.0, 1.0)  # feature 2, L2, parents: the two stem blocks
    assert block(1) == (4.0, 0.0, 2.0, 2.0, 3.0, 2.0)  # feature 3, L4 residual, the stem again
    assert block(2) == (3.0, 1.0, 2.0, 4.0, 2.0, 1.0)  # feature 4, parents 2 (L2) and 3 (L4)
    # feature 8 (L5 residual), parents 6 (L6) and 7 (L4): the L4 parent comes first although later
    assert block(6) == (5.0, 0.0, 4.0, 6.0, 1.0, 2.0)
    assert block(13) == (7.0, 1.0, 4.0, 5.0, 10.0, 1.0)  # feature 15, parents 5 (L4) and 14 (L5)


def test_r50_sd_features_and_equal_length_across_spaces():
    values = spec_features(get_builtin("r50-sd"))
    assert values[6:12] == (3.0, 1.0, 2.0, 2.0, 2.0, 1.0)  # feature 3 (L3), parents 1 and 2 (both L2)
    assert values[6 * 10:6 * 11] == (3.0, 1.0, 4.0, 5.0, 2.0, 1.0)  # first output: parents 10 (L4), 11 (L5)
    assert all(values[6 * k + 1] == 1.0 for k in range(15))  # all bottleneck
    resnet50, r0 = SearchSpace.from_seed("resnet50"), SearchSpace.from_seed("r0-sp53")
    a, b = spec_features(resnet50.decode(resnet50.sample(0, 0))), spec_features(r0.decode(r0.sample(0, 0)))
    assert len(a) == len(b) == 90
    assert all(b[6 * k + 1] == 1.0 for k in range(15))  # r0-sp53's space has no block types


# ---- predictor ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def rows(space):
    specs = [space.decode(space.sample(11, k)) for k in range(50)]
    return specs, [reward_of(s) for s in specs]


@pytest.mark.parametrize("kind", ["forest", "gbm", "gp"])
def test_predictor_is_deterministic_and_learns(rows, kind):
    specs, rewards = rows
    first, second = RewardPredictor(kind, seed=4), RewardPredictor(kind, seed=4)
    assert not first.fitted and first.size == 0
    first.fit(specs[:35], rewards[:35])
    second.fit(specs[:35], rewards[:35])
    assert first.fitted and first.size == 35
    predicted = first.predict(specs[35:])
    assert predicted == second.predict(specs[35:])  # exact equality
    assert statistics.correlation(predicted, rewards[35:]) > 0.5


def test_predictor_errors(rows):
    with pytest.raises(ControllerError, match="unknown predictor 'svm'; known: forest, gbm, gp"):
        RewardPredictor("svm")
    with pytest.raises(ControllerError, match="has not been fitted"):
        RewardPredictor().predict(rows[0][:1])
    with pytest.raises(ControllerError, match="one reward per spec"):
        RewardPredictor().fit(rows[0][:2], [0.1])


# ---- the screen -----------------------------------------------------------------------------
def test_warmup_passes_the_inner_proposals_through(space):
    screened = build_screened("random", space, seed=3, screen={"warmup": 3, "candidates": 4})
    plain = build_controller("random", space, seed=3)
    for expected in rounds(plain, 3):
        got = screened.propose()
        assert (got.index, got.decisions) == (expected.index, expected.decisions)
        assert got.meta == {"screen": {"candidates": 1}}
        screened.feedback(got, reward_of(got.spec))
    got = screened.propose()  # the first screened proposal: 4 inner proposals, indices 3..6
    assert got.meta["screen"]["candidates"] == 4 and screened.next_index == 7
    assert sorted([got.index, *got.meta["screen"]["screened"]]) == [3, 4, 5, 6]


def test_the_predicted_best_is_chosen(space):
    screened = build_screened("random", space, seed=5, screen={"warmup": 4, "candidates": 6, "seed": 2})
    trained = rounds(screened, 4)
    for _ in range(2):
        chosen = screened.propose()
        others = screened.take_screened()
        reference = RewardPredictor("forest", seed=2)
        reference.fit([p.spec for p in trained], [reward_of(p.spec) for p in trained])
        candidates = sorted([chosen, *[p for p, _ in others]], key=lambda p: p.index)
        predicted = reference.predict([p.spec for p in candidates])
        best = max(range(len(candidates)), key=lambda i: (predicted[i], -i))
        assert candidates[best] is chosen
        assert chosen.meta["screen"]["predicted"] == predicted[best] == max(predicted)
        assert [p.index for p, _ in others] == chosen.meta["screen"]["screened"]
        assert [v for _, v in others] == [predicted[candidates.index(p)] for p, _ in others]
        screened.feedback(chosen, reward_of(chosen.spec))
        trained.append(chosen)


def test_inner_controller_is_fed_nothing_for_screened_out_proposals(space):
    screened = build_screened("evolution", space, seed=1, options=SMALL_EVOLUTION,
                              screen={"warmup": 3, "candidates": 4})
    trained = rounds(screened, 12)
    screened_out = screened.take_screened()
    assert screened.num_feedbacks == screened.inner.num_feedbacks == 12
    assert screened.next_index == 3 + 9 * 4 and len(screened_out) == 9 * 3
    trained_decisions = {p.decisions for p in trained}
    assert {d for d, _ in screened.inner.population} <= trained_decisions
    assert len(screened.inner.population) == 4
    assert set(screened.inner.rewards) == {spec_key(p.spec) for p in trained}
    # screened-out specs still count as proposed: the inner controller's duplicate avoidance sees them
    assert {spec_key(p.spec) for p, _ in screened_out} <= screened.inner.proposed
    assert not {p.decisions for p, _ in screened_out} & trained_decisions


def test_take_screened_hands_each_proposal_over_once(space):
    screened = build_screened("random", space, seed=2, screen={"warmup": 2, "candidates": 3})
    chosen, taken = [], []
    for _ in range(6):
        proposal = screened.propose()
        screened.feedback(proposal, reward_of(proposal.spec))
        chosen.append(proposal.index)
        taken += [p.index for p, _ in screened.take_screened()]
    assert screened.take_screened() == []
    assert sorted(chosen + taken) == list(range(screened.next_index)) == list(range(2 + 4 * 3))
    assert len(set(taken)) == len(taken) == 8


def drive_screened(name, space, options, n=10, concurrency=3):
    """n feedbacks with `concurrency` outstanding, newest answered first; the controller, its trace,
    history and screened-out proposals."""
    controller = build_screened(name, space, seed=7, options=options, screen={"warmup": 3, "candidates": 4})
    trace, history, outstanding, screened_out = [], [], [], []
    while len(history) < n:
        while len(outstanding) < concurrency:
            outstanding.append(controller.propose())
            screened_out += [p for p, _ in controller.take_screened()]
        proposal = outstanding.pop()
        reward = reward_of(proposal.spec)
        controller.feedback(proposal, reward)
        trace.append((proposal.index, proposal.decisions, proposal.meta["screen"]))
        history.append((proposal.decisions, reward, proposal.meta))
    return controller, trace, history, screened_out


@pytest.mark.parametrize("name,options", [("random", {}), ("ppo", SMALL_PPO)])
def test_two_identical_runs_are_identical(space, name, options):
    _, first, _, _ = drive_screened(name, space, options)
    _, second, _, _ = drive_screened(name, space, options)
    assert first == second
    assert sum(meta["candidates"] == 4 for _, _, meta in first) >= 6


def next_chosen(controller, n=3) -> list:
    out = []
    for _ in range(n):
        proposal = controller.propose()
        out.append((proposal.index, proposal.decisions, proposal.meta["screen"]))
        controller.feedback(proposal, reward_of(proposal.spec))
    return out


@pytest.mark.parametrize("name,options", [("evolution", SMALL_EVOLUTION), ("ppo", SMALL_PPO)])
def test_state_dict_round_trip_continues_identically(space, name, options):
    original, _, _, _ = drive_screened(name, space, options, concurrency=1)
    state = json.loads(json.dumps(original.state_dict()))
    assert state["name"] == name and state["screen"] == {"kind": "forest", "candidates": 4, "warmup": 3, "seed": 0}
    assert len(state["observed"]) == 10 and state["inner"]["num_feedbacks"] == 10
    restored = build_screened(name, space, seed=0, options=options, screen={"warmup": 3, "candidates": 4})
    restored.load_state_dict(state)
    assert restored.next_index == original.next_index
    assert next_chosen(restored) == next_chosen(original)


@pytest.mark.parametrize("name,options", [("evolution", SMALL_EVOLUTION), ("ppo", SMALL_PPO)])
def test_recover_continues_identically(space, name, options):
    original, _, history, screened_out = drive_screened(name, space, options, concurrency=1)
    recovered = build_screened(name, space, seed=7, options=options, screen={"warmup": 3, "candidates": 4})
    recovered.recover(history)
    assert recovered.next_index == original.next_index
    assert recovered.observed == original.observed
    assert recovered.inner.proposed < original.inner.proposed  # screened-out specs are not in a history
    for proposal in screened_out:  # as a store keeps them: adopted, so duplicate avoidance sees them again
        recovered.adopt(proposal)
    assert recovered.inner.proposed == original.inner.proposed
    assert next_chosen(recovered) == next_chosen(original)


def test_bad_options_are_refused(space):
    with pytest.raises(ControllerError, match=r"screen candidates=0; use an integer >= 1"):
        ScreenConfig(candidates=0)
    with pytest.raises(ControllerError, match=r"screen warmup=1; use an integer >= 2"):
        build_screened("random", space, screen={"warmup": 1})
    with pytest.raises(ControllerError, match=r"screen kind='svm'; use one of \['forest', 'gbm', 'gp'\]"):
        build_screened("random", space, screen={"kind": "svm"})
    with pytest.raises(ControllerError, match=r"unknown screen option\(s\) \['k'\]; known: "):
        build_screened("random", space, screen={"k": 4})
    with pytest.raises(ControllerError, match="unknown controller 'nope'"):
        build_screened("nope", space)
    with pytest.raises(ControllerError, match="wraps a Controller"):
        ScreenedController(object())


def test_foreign_states_are_refused(space):
    screened = build_screened("random", space, screen={"candidates": 4})
    with pytest.raises(ControllerError, match="state of a plain 'random' controller cannot load into a screened"):
        screened.load_state_dict(build_controller("random", space).state_dict())
    other = build_screened("random", space, screen={"candidates": 2}).state_dict()
    with pytest.raises(ControllerError, match="build the screen with the stored options"):
        screened.load_state_dict(other)
    with pytest.raises(ControllerError, match="state of controller 'random' cannot load into 'evolution'"):
        build_screened("evolution", space, screen={"candidates": 4}).load_state_dict(screened.state_dict())


def test_screen_loads_no_heavy_package_until_a_predictor_fits():
    code = (
        "import sys, controller;"
        "from search_space import SearchSpace;"
        "c = controller.build_screened('random', SearchSpace.from_seed('resnet50'), screen={'warmup': 2});"
        "c.feedback(c.propose(), 0.2);"
        "print([m for m in ('torch', 'numpy', 'sklearn', 'scipy') if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
