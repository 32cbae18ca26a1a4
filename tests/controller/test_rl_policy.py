"""The LSTM policy: masks give zero probability and are never sampled, entropy stays finite,
batched replay agrees with the step-by-step walk, stored samples survive concurrency."""

from __future__ import annotations

import math
import random

import pytest
import torch

from controller import build_controller
from controller.rl.policy import MASK_LOGIT


@pytest.fixture(scope="module")
def ppo(space):
    return build_controller("ppo", space, seed=0, batch_size=4)


def test_mask_logit_is_finite():
    assert math.isfinite(MASK_LOGIT) and MASK_LOGIT <= -1e8


def test_sampled_choices_are_always_valid(space, ppo):
    for k in range(15):
        actions, masks, log_probs = ppo.policy.sample(random.Random(k))
        assert [list(m) for m in space.masks(actions)] == [m[: len(space.steps[t].options)] for t, m in enumerate(masks)]
        assert all(m[a] for a, m in zip(actions, masks))
        assert all(lp <= 0.0 and math.isfinite(lp) for lp in log_probs)


def test_replay_matches_walk_and_batched_evaluation(ppo):
    actions, masks, log_probs = ppo.policy.sample(random.Random(3))
    assert ppo.policy.replay(actions)[2] == log_probs  # bit-identical: the same code path
    with torch.no_grad():
        batched, entropy = ppo.policy.evaluate(torch.tensor([actions]), torch.tensor([masks]))
    assert torch.allclose(batched[0], torch.tensor(log_probs), atol=1e-4)
    assert torch.isfinite(entropy).all() and (entropy >= 0).all()


def test_masked_options_get_exactly_zero_probability(ppo):
    actions, masks, _ = ppo.policy.sample(random.Random(4))
    masks_t = torch.tensor([masks])  # [1, T, O]
    with torch.no_grad():
        log_p = ppo.policy.log_distributions(torch.tensor([actions]), masks_t)  # [1, T, O]
    assert torch.isfinite(log_p).all()
    probabilities = log_p.exp()
    assert (probabilities[~masks_t] == 0).all()
    assert torch.allclose(probabilities.sum(-1), torch.ones(1, len(actions)))


def test_out_of_order_feedback_keeps_each_samples_version_and_old_log_probs(space):
    controller = build_controller("ppo", space, seed=1, batch_size=2)
    early = [controller.propose() for _ in range(3)]  # all under version 0
    controller.feedback(early[2], 0.3)
    controller.feedback(early[0], 0.1)  # batch full: update -> version 1
    late = controller.propose()
    controller.feedback(late, 0.2)
    assert controller.version == 1 and [p.meta["policy_version"] for p in (*early, late)] == [0, 0, 0, 1]
    controller.feedback(early[1], 0.05)  # stale sample (version 0) joins the version-1 batch
    assert controller.version == 2
    assert controller.pending == []


def test_pending_sample_stores_everything_ppo_needs(space):
    controller = build_controller("ppo", space, seed=1, batch_size=5)
    proposal = controller.propose()
    controller.feedback(proposal, 0.2)
    (sample,) = controller.pending
    assert sample["actions"] == list(proposal.decisions)
    assert sample["old_log_probs"] == proposal.meta["old_log_probs"]
    assert sample["version"] == 0 and sample["advantage"] == 0.0  # the baseline starts at the first reward
    assert len(sample["masks"]) == len(space.steps)
