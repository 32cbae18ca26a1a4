"""A predictor screen around any controller: propose K candidates, train the predicted best.

`ScreenedController(inner, config)` has the `Controller` interface (docs/design.md §3.3). While
fewer than `warmup` rewards have been fed back, `propose()` is the inner controller's proposal
unchanged (meta `"screen": {"candidates": 1}`). After that, each `propose()` draws `candidates`
proposals from the inner controller, refits the `RewardPredictor` on every (spec, reward) fed
back so far (only when rewards arrived since the last fit), and returns the candidate with the
highest predicted reward (ties: the lowest proposal index), with meta `"index": k` and
`"screen": {"candidates": K, "predicted": p, "screened": [indices of the others]}`. The others are handed
over once by `take_screened()`, with their predictions, for the caller to record.

The rule: **the inner controller is fed nothing for a screened-out proposal.** It learns only
from trained proposals, exactly as if it had proposed them alone; a screened-out proposal is
neither a reward nor a penalty to it. Screened-out specs still count as proposed by the inner
controller (they came from its `propose()`), so its duplicate avoidance never proposes them
again, and their proposal indices are used up. A caller that trains a screened-out proposal
after all may feed it back like any other; it then counts as trained.

For the RL controllers this means that the samples PPO learns from are the screen's picks among
K draws of the policy, not plain draws: their stored old log-probabilities are the policy's, and
the clipped ratio ignores the selection (as it ignores duplicate redraws, `rl/controller.py`).

Determinism: the inner controller's proposals depend on (seed, k) and the rewards fed back, and
the predictor on (kind, seed, rows), so the whole screen does too. State (`state_dict`): the
inner controller's state, the screen's config and the observed (decisions, reward) rows; the
predictor is refitted from the rows when it is next needed, which gives the same model.
Screened-out proposals not yet taken are not part of the state.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, fields

from controller.base import Controller, ControllerError, Proposal
from controller.predictor import PREDICTORS, RewardPredictor
from controller.registry import build_controller
from search_space import ArchSpec, SearchSpace


@dataclass(frozen=True)
class ScreenConfig:
    """Options of the screen (module docstring); checked when built."""

    # the predictor's kind: "forest" (random forest, default), "gbm" or "gp" (controller/predictor.py)
    kind: str = "forest"
    # inner proposals drawn per trained one after warmup; 1 is the inner controller alone
    candidates: int = 8
    # rewards fed back before the screen starts: fewer rows than this fit nothing useful
    warmup: int = 5
    # the predictor's random_state
    seed: int = 0

    def __post_init__(self) -> None:
        if self.kind not in PREDICTORS:
            raise ControllerError(f"screen kind={self.kind!r}; use one of {list(PREDICTORS)}")
        for name, least in (("candidates", 1), ("warmup", 2)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < least:
                raise ControllerError(f"screen {name}={value!r}; use an integer >= {least}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int):
            raise ControllerError(f"screen seed={self.seed!r}; use an integer")


def screen_config(options: dict | None) -> ScreenConfig:
    """`ScreenConfig` from keyword options.

    Raises:
        ControllerError: an unknown option (naming the known ones) or a bad value.
    """
    options = dict(options or {})
    known = {f.name for f in fields(ScreenConfig)}
    unknown = sorted(set(options) - known)
    if unknown:
        raise ControllerError(f"unknown screen option(s) {unknown}; known: {sorted(known)}")
    return ScreenConfig(**options)


class ScreenedController:
    """`inner` behind a reward-predictor screen (module docstring); the `Controller` interface."""

    def __init__(self, inner: Controller, config: ScreenConfig | None = None):
        if not isinstance(inner, Controller):
            raise ControllerError(f"the screen wraps a Controller; got {type(inner).__name__}")
        self.inner = inner
        self.config = config if config is not None else ScreenConfig()
        self._reset_rows()

    def _reset_rows(self) -> None:
        self.observed: list[tuple[tuple[int, ...], float]] = []  # (decisions, reward) in feedback order
        self._specs: list[ArchSpec] = []  # decoded specs of `observed`, same order
        self.predictor = RewardPredictor(self.config.kind, self.config.seed)
        self._screened: list[tuple[Proposal, float]] = []  # screened out, not yet taken

    # ---- the inner controller's identity ------------------------------------------------
    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def space(self) -> SearchSpace:
        return self.inner.space

    @property
    def seed(self) -> int:
        return self.inner.seed

    @property
    def num_feedbacks(self) -> int:
        return self.inner.num_feedbacks

    @property
    def next_index(self) -> int:
        return self.inner.next_index

    @next_index.setter
    def next_index(self, value: int) -> None:
        self.inner.next_index = value

    # ---- the interface ------------------------------------------------------------------
    def propose(self) -> Proposal:
        """The inner controller's proposal during warmup, else the predicted best of K (module docstring)."""
        if len(self.observed) < self.config.warmup:
            proposal = self.inner.propose()
            proposal.meta["screen"] = {"candidates": 1}
            return proposal
        candidates = [self.inner.propose() for _ in range(self.config.candidates)]
        if self.predictor.size != len(self.observed) or not self.predictor.fitted:
            self.predictor.fit(self._specs, [r for _, r in self.observed])
        predicted = self.predictor.predict([c.spec for c in candidates])
        best = max(range(len(candidates)), key=lambda i: (predicted[i], -i))
        chosen = candidates[best]
        others = [i for i in range(len(candidates)) if i != best]
        chosen.meta["index"] = chosen.index  # the base recover's convention (RL's meta has it already)
        chosen.meta["screen"] = {"candidates": len(candidates), "predicted": predicted[best],
                                 "screened": [candidates[i].index for i in others]}
        self._screened += [(candidates[i], predicted[i]) for i in others]
        return chosen

    def take_screened(self) -> list[tuple[Proposal, float]]:
        """The screened-out proposals (with their predicted rewards) since the last call, each once."""
        taken, self._screened = self._screened, []
        return taken

    def feedback(self, proposal: Proposal, reward: float) -> None:
        """Feed the inner controller and add the row to the predictor's data.

        Raises:
            ControllerError: a reward that is not a finite number (the inner controller's check).
        """
        self.inner.feedback(proposal, reward)
        self.observed.append((tuple(proposal.decisions), float(reward)))
        self._specs.append(proposal.spec)

    def adopt(self, proposal: Proposal) -> None:
        """The inner controller's `adopt`: the proposal counts as proposed, its index is used."""
        self.inner.adopt(proposal)

    def recover(self, history: Iterable[Sequence]) -> None:
        """The inner controller's `recover(history)`, and the predictor's rows from the same items.

        Screened-out proposals are not in a history (they got no reward): the next index skips
        those named in the items' meta (`"screen": {"screened": [...]}`), and a caller that keeps
        them (the store's proposals) `adopt`s them, so that the inner controller's duplicate
        avoidance sees them as before.
        """
        history = list(history)
        self.inner.recover(history)
        self._reset_rows()
        last = -1
        for item in history:
            decisions = tuple(int(d) for d in item[0])
            self.observed.append((decisions, float(item[1])))
            self._specs.append(self.space.decode(decisions))
            meta = item[2] if len(item) > 2 and item[2] else {}
            last = max([last, *meta.get("screen", {}).get("screened", [])])
        self.next_index = max(self.next_index, last + 1)

    def state_dict(self) -> dict:
        """The inner controller's state, the screen's config and the observed rows (JSON-able)."""
        return {"name": self.name, "screen": asdict(self.config), "inner": self.inner.state_dict(),
                "observed": [[list(d), r] for d, r in self.observed]}

    def load_state_dict(self, state: dict) -> None:
        """Restore a `state_dict()` of a screen with the same config around the same controller kind.

        Raises:
            ControllerError: a plain controller's state, another screen config, or another kind.
        """
        if "screen" not in state or "inner" not in state:
            raise ControllerError(f"state of a plain {state.get('name')!r} controller cannot load into a screened "
                                  f"one; build the controller without a screen to resume it")
        if state["screen"] != asdict(self.config):
            raise ControllerError(f"state of a screen with {state['screen']} cannot load into one with "
                                  f"{asdict(self.config)}; build the screen with the stored options")
        self.inner.load_state_dict(state["inner"])
        self._reset_rows()
        for decisions, reward in state["observed"]:
            self.observed.append((tuple(int(d) for d in decisions), float(reward)))
            self._specs.append(self.space.decode(decisions))


def build_screened(name: str, space: SearchSpace, seed: int = 0, options: dict | None = None,
                   screen: dict | None = None) -> ScreenedController:
    """Controller `name` (`build_controller(name, space, seed, **options)`) behind a screen.

    Args:
        screen: `ScreenConfig` fields (kind, candidates, warmup, seed); None gives the defaults.
    Raises:
        ControllerError: unknown controller, controller option or screen option, or a bad value.
    """
    config = screen_config(screen)
    return ScreenedController(build_controller(name, space, seed=seed, **(options or {})), config)
