"""The one controller interface (docs/design.md §3.3) and what every controller shares.

`Controller.propose()` returns a `Proposal` (its index k, the decisions, the decoded spec, a
JSON-able meta dict); `feedback(proposal, reward)` hands back the reward, in any order and with
any number of proposals outstanding; `state_dict()` / `load_state_dict()` checkpoint the whole
state as plain JSON data; `recover(history)` rebuilds the state from the recorded feedbacks.

Determinism: the k-th proposal draws its randomness from `random.Random(f"{name}:{seed}:{k}:{a}")`
only (a = redraw attempt), so it depends on (seed, k) and on the rewards fed back, never on
wall-clock order or a global random state.

Duplicates (option `duplicates`), a spec counting as a duplicate when its blocks equal those of
a spec already proposed (outstanding or evaluated):
- "avoid" (default): redraw, up to `max_redraws` times, from fresh streams of the same k; a spec
  is never proposed twice unless every redraw is a duplicate too (a converged policy).
- "reuse": propose it anyway; when its reward is known, `meta["known_reward"]` carries it so the
  caller can feed that reward back without training (answered from the history).
- "allow": propose whatever is drawn, unmarked (plain sampling, as in the papers).
Under "avoid", a repeat that every redraw could not escape is marked with `known_reward` too.
`nas search` trains every proposal it gets, marked or not: there, "avoid" is the way to keep
repeats out.

History items for `recover` are `(decisions, reward)` or `(decisions, reward, meta)` in the
order feedback was given; meta (the proposal's) lets the RL controller reuse the stored old
log-probabilities and policy version (see `rl/controller.py`).
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from search_space import ArchSpec, SearchSpace
from search_space.errors import UserInputError

DUPLICATE_MODES = ("avoid", "reuse", "allow")


class ControllerError(UserInputError):
    """Bad controller name, option or feedback: the message names it and the fix."""


@dataclass(frozen=True)
class Proposal:
    """One proposed architecture: k-th proposal of its controller."""

    index: int  # k: this is the controller's k-th proposal (0-based)
    decisions: tuple[int, ...]  # one option index per step of `space.steps`
    spec: ArchSpec  # the decoded, validated architecture
    meta: dict = field(default_factory=dict, compare=False)  # JSON-able extras (known_reward, RL data)


@dataclass(frozen=True)
class BaseConfig:
    """Options every controller takes."""

    # "avoid" | "reuse" | "allow": how a repeated spec is handled (module docstring)
    duplicates: str = "avoid"
    # redraws before "avoid" gives up: 5 finds a new spec unless the sampler has collapsed, and bounds
    # the cost of a converged RL policy (each redraw is one more 70-step walk)
    max_redraws: int = 5


def config_from_options(cls: type, options: dict) -> Any:
    """Build the frozen config `cls` from keyword options.

    Raises:
        ControllerError: an unknown option (naming the known ones) or a bad duplicates mode.
    """
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(options) - known)
    if unknown:
        raise ControllerError(f"unknown controller option(s) {unknown}; known: {sorted(known)}")
    config = cls(**options)
    if config.duplicates not in DUPLICATE_MODES:
        raise ControllerError(f"duplicates={config.duplicates!r}; use one of {list(DUPLICATE_MODES)}")
    return config


def spec_key(spec: ArchSpec) -> str:
    """Identity of an architecture for duplicate detection (blocks only; the stem is the space's)."""
    return repr(tuple((b.level, b.block_fn, b.inputs, b.is_output) for b in spec.blocks))


def draw_uniform(space: SearchSpace, rng: random.Random) -> tuple[int, ...]:
    """A uniformly drawn valid option at every step, in order (same rule as `space.sample`)."""
    state = space.walk(())
    for _ in space.steps:
        state.take(rng.choice(state.valid_choices()))
    return tuple(state.decisions)


class Controller:
    """Base class: proposal indexing, duplicates, history, checkpoint and recovery.

    Subclasses set `name`, `config_class` and implement `_candidate(k, attempt)` (decisions and
    meta of one draw) and `_learn(proposal, reward)`; stateful ones extend
    `_extra_state` / `_load_extra_state` / `_reset`.
    """

    name = "base"
    config_class: type = BaseConfig

    def __init__(self, space: SearchSpace, seed: int = 0, **options):
        self.space = space
        self.seed = int(seed)
        self.config = config_from_options(self.config_class, options)
        self._reset()

    # ---- state ------------------------------------------------------------------------
    def _reset(self) -> None:
        """Fresh state, as right after construction."""
        self.next_index = 0
        self.proposed: set[str] = set()  # spec keys of every proposal made (evaluated or not)
        self.rewards: dict[str, float] = {}  # spec key -> last reward fed back
        self.num_feedbacks = 0

    def rng(self, k: int, attempt: int = 0) -> random.Random:
        """The only source of randomness of the k-th proposal's `attempt`-th draw."""
        return random.Random(f"{self.name}:{self.seed}:{k}:{attempt}")

    # ---- the interface ----------------------------------------------------------------
    def propose(self) -> Proposal:
        """The next proposal; its randomness depends only on (seed, k) (module docstring)."""
        k = self.next_index
        self.next_index += 1
        decisions, meta, spec = self._draw(k)
        key = spec_key(spec)
        if key in self.rewards and self.config.duplicates != "allow":
            meta["known_reward"] = self.rewards[key]
        self.proposed.add(key)
        return Proposal(k, decisions, spec, meta)

    def _draw(self, k: int) -> tuple[tuple[int, ...], dict, ArchSpec]:
        attempts = self.config.max_redraws + 1 if self.config.duplicates == "avoid" else 1
        for attempt in range(attempts):
            decisions, meta = self._candidate(k, attempt)
            spec = self.space.decode(decisions, name=f"{self.name}-s{self.seed}-{k}")
            if spec_key(spec) not in self.proposed:
                break
        return tuple(decisions), meta, spec

    def adopt(self, proposal: Proposal) -> None:
        """Count a proposal handed out before this state was restored (it is still outstanding and
        will be handed out again): its spec counts as proposed and its index is never reused."""
        self.proposed.add(spec_key(proposal.spec))
        self.next_index = max(self.next_index, proposal.index + 1)

    def feedback(self, proposal: Proposal, reward: float) -> None:
        """Record the reward of a proposal (any order, any number outstanding).

        Raises:
            ControllerError: a reward that is not a finite number (map failures to a penalty
                first, see `controller.reward.shaped_reward`).
        """
        if isinstance(reward, bool) or not isinstance(reward, (int, float)) or not math.isfinite(reward):
            raise ControllerError(f"reward {reward!r} must be a finite number; map failed trials to a penalty")
        key = spec_key(proposal.spec)
        self.proposed.add(key)
        self.rewards[key] = float(reward)
        self.num_feedbacks += 1
        self._learn(proposal, float(reward))

    def recover(self, history: Iterable[Sequence]) -> None:
        """Rebuild the state from `(decisions, reward[, meta])` items in feedback order.

        Proposals outstanding when the history was recorded are forgotten; the next proposal
        index continues after the largest index seen (meta "index") or the history length.
        """
        self._reset()
        last = -1
        for n, item in enumerate(history):
            decisions, reward = tuple(item[0]), item[1]
            meta = dict(item[2]) if len(item) > 2 and item[2] else {}
            k = int(meta.get("index", n))
            last = max(last, k)
            spec = self.space.decode(decisions, name=f"{self.name}-s{self.seed}-{k}")
            self.feedback(Proposal(k, decisions, spec, meta), reward)
        self.next_index = last + 1

    def state_dict(self) -> dict:
        """The whole state as JSON-able data."""
        return {
            "name": self.name,
            "seed": self.seed,
            "config": asdict(self.config),
            "next_index": self.next_index,
            "proposed": sorted(self.proposed),
            "rewards": dict(self.rewards),
            "num_feedbacks": self.num_feedbacks,
            **self._extra_state(),
        }

    def load_state_dict(self, state: dict) -> None:
        """Restore a `state_dict()`.

        Raises:
            ControllerError: the state belongs to another controller kind.
        """
        if state.get("name") != self.name:
            raise ControllerError(f"state of controller {state.get('name')!r} cannot load into {self.name!r}")
        self.seed = int(state["seed"])
        self.config = config_from_options(self.config_class, state["config"])
        self.next_index = int(state["next_index"])
        self.proposed = set(state["proposed"])
        self.rewards = {k: float(v) for k, v in state["rewards"].items()}
        self.num_feedbacks = int(state["num_feedbacks"])
        self._load_extra_state(state)

    # ---- hooks ------------------------------------------------------------------------
    def _candidate(self, k: int, attempt: int) -> tuple[tuple[int, ...], dict]:
        """Decisions and meta of the k-th proposal's `attempt`-th draw (use `self.rng(k, attempt)`)."""
        raise NotImplementedError

    def _learn(self, proposal: Proposal, reward: float) -> None:
        """Default: nothing to learn (random search)."""

    def _extra_state(self) -> dict:
        return {}

    def _load_extra_state(self, state: dict) -> None:
        """Default: no extra state."""
