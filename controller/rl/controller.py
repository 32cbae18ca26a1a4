"""The RL controller: PPO (default) or REINFORCE on the LSTM policy of `policy.py`.

Concurrency: `propose()` samples under the current policy and stores, in the proposal's meta,
the per-decision old log-probabilities (from the step-by-step walk that sampled it; the batched
replay PPO re-evaluates with agrees with it to float rounding, tests/controller) and the policy
version. `feedback()` may come in any order and with many proposals outstanding: each
finished sample (actions, masks, old log-probabilities, version, advantage) joins the pending
batch, and every `batch_size` finished samples one update runs — PPO replays the stored actions
`ppo_epochs` times against the clipped objective; REINFORCE takes one gradient step. The
advantage is the reward minus a moving-average baseline (started at the first reward).

With `duplicates="avoid"` (the default) a sample that repeats a proposed spec is redrawn, so
the proposals are the policy's samples conditioned on being new; the stored old log-probability
is the policy's own, and PPO's ratio ignores that conditioning (small while few draws repeat).

Recovery: replaying `(decisions, reward, meta)` in feedback order reuses the stored old
log-probabilities, giving bit-identical parameters; without meta the old log-probabilities are
recomputed under the policy current at replay time, which is exact when every proposal was made
under the policy current at its feedback (one trial at a time).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from controller.base import BaseConfig, Controller, ControllerError, Proposal
from controller.rl.losses import ppo_loss, reinforce_loss
from controller.rl.policy import DecisionPolicy
from controller.rl.tensor_state import from_plain, to_plain


@dataclass(frozen=True)
class RLConfig(BaseConfig):
    """Options of the RL controller; docs/facts.md §5.3 unless the benchmark measured a better value."""

    # LSTM width: NASNet/MnasNet's 1-layer LSTM of 100 units (docs/facts.md §5.3)
    hidden_size: int = 100
    # size of each previous-answer embedding; as wide as the LSTM, like NASNet's controller
    embedding_size: int = 100
    # Adam step; docs/facts.md §5.3 gives 3.5e-4 for 20k children. Our searches see 50-1000 trials: on the
    # controller benchmark's tuning family (4 runs, batch 20) best@200 was 0.167 with 3.5e-4 and
    # 0.219 with 3e-3 (results/README.md, controller efficiency). REINFORCE shares it (not swept)
    learning_rate: float = 3e-3
    # entropy bonus weight (NASNet: 1e-5); per-sample sum of step entropies
    entropy_weight: float = 1e-5
    # moving-average baseline decay (NASNet: 0.95)
    baseline_decay: float = 0.95
    # finished samples per update; NASNet's 20 children. Measured against 10 (lr 3e-3): level at
    # 200 proposals (0.219 vs 0.227, within one standard error) and better at 1000 (0.277 vs
    # 0.242, where 10 concentrates the policy too early). Searches of a few dozen trials need
    # fewer (the Hydra configs use 4, so a 16-trial run updates 4 times); tests use 2-5
    batch_size: int = 20
    # PPO passes over each batch ("several epochs"; docs/facts.md §5.3: not stated, PPO's usual few)
    ppo_epochs: int = 4
    # PPO ratio clip (PPO's usual 0.2; not stated in this line of work)
    clip: float = 0.2
    # uniform init range (NASNet A.2: +-0.1)
    init_scale: float = 0.1
    # divide the batch's advantages by their std: keeps the step size independent of reward scale
    normalize_advantages: bool = True


class RLController(Controller):
    """LSTM policy trained by a policy-gradient method (`algorithm`: set by the subclass)."""

    name = "rl"
    algorithm = "ppo"
    config_class = RLConfig

    def __init__(self, space, seed: int = 0, **options):
        super().__init__(space, seed, **options)
        cfg = self.config
        if cfg.batch_size < 1 or cfg.ppo_epochs < 1 or cfg.learning_rate <= 0:
            raise ControllerError(f"need batch_size >= 1, ppo_epochs >= 1, learning_rate > 0; got {cfg}")

    def _reset(self) -> None:
        super()._reset()
        self._build_torch()
        self.policy.init_uniform(self.config.init_scale, self.seed)
        self.version = 0  # number of updates made
        self.baseline: float | None = None
        self.pending: list[dict] = []  # finished samples waiting for the next update

    # ---- proposing --------------------------------------------------------------------
    def _candidate(self, k: int, attempt: int) -> tuple[tuple[int, ...], dict]:
        actions, _, old = self.policy.sample(self.rng(k, attempt))
        return actions, {"index": k, "policy_version": self.version, "old_log_probs": old}

    def _masks(self, actions: tuple[int, ...]) -> list[list[bool]]:
        return self.policy.padded_masks(actions)

    # ---- learning ---------------------------------------------------------------------
    def _learn(self, proposal: Proposal, reward: float) -> None:
        actions = tuple(proposal.decisions)
        old = proposal.meta.get("old_log_probs")
        if old is None:  # recovered without meta: the policy current now stands in for the proposer
            _, _, old = self.policy.replay(actions)
        masks = self._masks(actions)
        if self.baseline is None:
            self.baseline = reward
        advantage = reward - self.baseline
        self.baseline = self.config.baseline_decay * self.baseline + (1 - self.config.baseline_decay) * reward
        version = int(proposal.meta.get("policy_version", self.version))
        self.pending.append({"actions": list(actions), "masks": masks, "old_log_probs": [float(v) for v in old],
                             "version": version, "advantage": advantage, "reward": reward})
        if len(self.pending) >= self.config.batch_size:
            self._update(self.pending)
            self.pending = []
            self.version += 1

    def _update(self, batch: list[dict]) -> None:
        cfg = self.config
        actions = torch.tensor([s["actions"] for s in batch])  # [B, T]
        masks = torch.tensor([s["masks"] for s in batch])  # [B, T, O]
        old = torch.tensor([s["old_log_probs"] for s in batch])  # [B, T]
        adv = torch.tensor([s["advantage"] for s in batch])  # [B]
        if cfg.normalize_advantages and len(batch) > 1:
            adv = adv / (adv.std() + 1e-8)
        epochs = cfg.ppo_epochs if self.algorithm == "ppo" else 1
        for _ in range(epochs):
            log_p, entropy = self.policy.evaluate(actions, masks)
            if self.algorithm == "ppo":
                loss = ppo_loss(log_p, old, adv, entropy, cfg.entropy_weight, cfg.clip)
            else:
                loss = reinforce_loss(log_p, adv, entropy, cfg.entropy_weight)
            self.optimizer.zero_grad()
            loss.backward()
            self.optimizer.step()

    # ---- inspection -------------------------------------------------------------------
    @torch.no_grad()
    def choice_probabilities(self, decisions: tuple[int, ...]) -> list[float]:
        """Probability of each decision of `decisions` given its prefix, under the current policy."""
        log_p, _ = self.policy.evaluate(torch.tensor([list(decisions)]), torch.tensor([self._masks(tuple(decisions))]))
        return log_p.exp()[0].tolist()

    # ---- checkpoint -------------------------------------------------------------------
    def _extra_state(self) -> dict:
        pending = [{k: v for k, v in s.items() if k != "masks"} for s in self.pending]
        return {
            "algorithm": self.algorithm,
            "version": self.version,
            "baseline": self.baseline,
            "pending": pending,  # masks are rebuilt from the actions on load
            "policy": to_plain(self.policy.state_dict()),
            "optimizer": to_plain(self.optimizer.state_dict()),
        }

    def _load_extra_state(self, state: dict) -> None:
        self._build_torch()
        self.version = int(state["version"])
        self.baseline = state["baseline"]
        self.pending = [{**s, "masks": self._masks(tuple(s["actions"]))} for s in state["pending"]]
        self.policy.load_state_dict(from_plain(state["policy"]))
        self.optimizer.load_state_dict(from_plain(state["optimizer"]))

    def _build_torch(self) -> None:
        """A policy (not yet initialized) and its Adam optimizer."""
        cfg = self.config
        self.policy = DecisionPolicy(self.space, hidden_size=cfg.hidden_size, embedding_size=cfg.embedding_size)
        self.optimizer = torch.optim.Adam(self.policy.parameters(), lr=cfg.learning_rate)


class PPOController(RLController):
    """PPO: clipped objective, `ppo_epochs` passes per batch (the default RL controller)."""

    name = "ppo"
    algorithm = "ppo"


@dataclass(frozen=True)
class ReinforceConfig(RLConfig):
    """REINFORCE's options: the RL controller's, with its own measured update batch."""

    # one gradient step per batch (no PPO epochs), so it needs more updates than PPO: on the
    # controller benchmark's tuning family best@200 was 0.207 with batch 10 vs 0.177 with 20,
    # and level at 1000 (0.283 vs 0.281)
    batch_size: int = 10


class ReinforceController(RLController):
    """REINFORCE with a moving-average baseline (Zoph & Le 2017); `ppo_epochs`/`clip` unused."""

    name = "reinforce"
    algorithm = "reinforce"
    config_class = ReinforceConfig
