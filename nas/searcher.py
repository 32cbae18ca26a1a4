"""The controller as a Ray Tune `Searcher`, with the results store as the single source of truth.

`suggest` asks the controller for a proposal, records it in the store and hands Ray the spec as
plain JSON. `on_trial_complete` turns the result into a row (a failure or a missing metric gets
the configured penalty), commits it, and only then gives the reward to the controller; a trial
whose row is already stored (Ray re-ran it after a resume) is ignored, so nothing counts twice.

The searcher is pickled into Ray's experiment state; its live parts (store, controller) are
rebuilt lazily in whichever driver uses it: from the newest controller checkpoint plus the rows
committed after it. `LiveTrials` (a Tune callback) tells it which trials Ray still runs, so a
resumed search suggests exactly as many new trials as are missing.
"""

from __future__ import annotations

import math
import os
import signal

from ray.tune import Callback
from ray.tune.search import Searcher

from nas.config import SearchConfig
from nas.store import METRIC_KEYS, ResultsStore
from search_space.serialize import spec_from_dict, spec_to_dict

KILL_AFTER_ENV = "SPINENET_NAS_TEST_KILL_DRIVER_AFTER"  # test hook: SIGKILL the driver after N committed rows
STATS_KEYS = ("flops", "params", "train_seconds", "images_per_second", "epochs_done")


def trial_status(result: dict | None, error: bool) -> tuple[str, str | None]:
    """(status, error text) of a finished trial from its last result and Ray's error flag."""
    if error:
        return "error", (result or {}).get("error") or "Ray saw the trial's worker or node die (retries used up)"
    if not result or ("final" not in result and result.get("ap") is None):
        return "error", "the trial reported no result"
    if not result.get("final"):
        return "stopped", None
    return result.get("status") or "error", result.get("error")


def reward_of(status: str, result: dict | None, cfg: SearchConfig) -> float:
    """The controller's reward: shaped AP for ok/stopped trials, the penalty for failures.

    A trial stopped early by ASHA has no FLOPs count; with a FLOPs term its reward is plain AP.
    """
    from controller.reward import shaped_reward

    ap, flops = (result or {}).get("ap"), (result or {}).get("flops")
    if status not in ("ok", "stopped") or ap is None or not math.isfinite(ap):
        return float(cfg.reward.failed_penalty)
    if flops is None:
        return float(ap)
    return float(shaped_reward(ap, flops, target_flops=cfg.reward.target_flops, flops_weight=cfg.reward.flops_weight))


def trial_row(trial_id: str, proposal, result: dict | None, error: bool, cfg: SearchConfig) -> dict:
    """The store row of a finished trial."""
    result = result or {}
    status, error_text = trial_status(result, error)
    row = {key: result.get(key) for key in (*METRIC_KEYS, *STATS_KEYS)}
    if status == "stopped":
        row["epochs_done"] = result.get("epoch")
    return {
        **row,
        "trial_id": trial_id,
        "proposal_index": proposal.index,
        "decisions": list(proposal.decisions),
        "spec": spec_to_dict(proposal.spec),
        "status": status,
        "reward": reward_of(status, result, cfg),
        "error": error_text,
        "started_at": result.get("started_at"),
        "replay": result.get("replay"),
    }


class SearchRuntime:
    """The live side of a search in one driver: space, controller, store, outstanding proposals."""

    def __init__(self, cfg: SearchConfig):
        from controller import build_controller

        self.cfg = cfg
        self.space = cfg.space.build()
        self.store = ResultsStore(cfg.db_path)
        self.controller = build_controller(cfg.controller.name, self.space, seed=cfg.seed, **cfg.controller.options)
        self.fed = self._rebuild_controller()
        self.live: dict = {}  # trial_id -> Proposal suggested by this driver, not finished
        self.ray_live: set[str] = set()  # trial ids Ray reports as not finished
        self.kill_after = int(os.environ.get(KILL_AFTER_ENV, "0") or 0)

    def proposal_of(self, record: dict):
        """A controller `Proposal` rebuilt from a stored proposal or trial row."""
        from controller.base import Proposal

        meta = dict(record.get("meta") or {})
        return Proposal(record["proposal_index"], tuple(record["decisions"]), spec_from_dict(record["spec"]), meta)

    def _rebuild_controller(self) -> int:
        """Checkpoint + feedback of the rows committed after it; returns rewards fed so far."""
        rows = self.store.trials()
        checkpoint = self.store.latest_checkpoint()
        start = 0
        if checkpoint is not None:
            self.controller.load_state_dict(checkpoint["state"])
            start = checkpoint["trials_fed"]
        for row in rows[start:]:
            stored = self.store.proposal(row["trial_id"]) or {}
            self.controller.feedback(self.proposal_of({**row, "meta": stored.get("meta")}), row["reward"])
        if hasattr(self.controller, "next_index"):  # never reuse the index of a proposal handed out before
            self.controller.next_index = max(self.controller.next_index, self.store.max_proposal_index() + 1)
        return len(rows)

    def outstanding(self) -> int:
        """Trials handed out and not yet stored (ours and those Ray restored or re-runs)."""
        return len(set(self.live) | {t for t in self.ray_live if not self.store.has_trial(t)})

    def wanted(self) -> int:
        """How many more trials must be suggested to reach the requested count."""
        return self.cfg.trials - self.store.count_trials() - self.outstanding()

    def suggest(self, trial_id: str) -> dict:
        """Propose, record the proposal, and return the trial's config fragment."""
        proposal = self.controller.propose()
        spec = spec_to_dict(proposal.spec)
        self.store.add_proposal(trial_id, proposal.index, proposal.decisions, spec, proposal.meta)
        self.live[trial_id] = proposal
        return {"spec": spec, "proposal_index": proposal.index}

    def complete(self, trial_id: str, result: dict | None, error: bool) -> dict | None:
        """Commit the trial's row, then feed the reward; returns the row, or None if already stored."""
        proposal = self.live.pop(trial_id, None)
        if proposal is None:
            stored = self.store.proposal(trial_id)
            if stored is None:
                return None  # not a trial of this search
            proposal = self.proposal_of(stored)
        row = trial_row(trial_id, proposal, result, error, self.cfg)
        if not self.store.commit_trial(row):
            return None
        self.controller.feedback(proposal, row["reward"])
        self.fed += 1
        if self.fed % self.cfg.checkpoint_every == 0:
            self.store.save_checkpoint(self.controller.state_dict(), self.fed)
        if self.kill_after and self.fed >= self.kill_after:
            os.kill(os.getpid(), signal.SIGKILL)  # test hook: a driver dying right after a commit
        return row


class ControllerSearcher(Searcher):
    """Ray Tune Searcher around a controller; picklable (the runtime is rebuilt on demand)."""

    def __init__(self, cfg: SearchConfig, trial_config: dict):
        super().__init__(metric="ap", mode="max")
        self.cfg = cfg
        self.trial_config = trial_config  # proxy/data dicts and resources every trial receives
        self._runtime: SearchRuntime | None = None

    def __getstate__(self):
        state = dict(self.__dict__)
        state["_runtime"] = None
        return state

    @property
    def runtime(self) -> SearchRuntime:
        if self._runtime is None:
            self._runtime = SearchRuntime(self.cfg)
        return self._runtime

    def suggest(self, trial_id: str):
        rt = self.runtime
        if rt.wanted() <= 0:
            return Searcher.FINISHED
        return {**self.trial_config, **rt.suggest(trial_id)}

    def on_trial_complete(self, trial_id: str, result: dict | None = None, error: bool = False) -> None:
        self.runtime.complete(trial_id, result, error)

    def set_ray_live(self, trial_ids: set[str]) -> None:
        """Trial ids Ray has not finished (from `LiveTrials`)."""
        self.runtime.ray_live = set(trial_ids)

    def save_to_dir(self, checkpoint_dir: str, session_str: str = "default") -> None:
        """Nothing to save: the results store holds the searcher's state."""

    def restore_from_dir(self, checkpoint_dir: str) -> None:
        """Nothing to restore: the runtime is rebuilt from the results store."""

    def close(self) -> None:
        if self._runtime is not None:
            self._runtime.store.close()
            self._runtime = None


class LiveTrials(Callback):
    """Tells the searcher, before each scheduling step, which trials Ray has not finished."""

    def __init__(self, searcher: ControllerSearcher):
        self.searcher = searcher

    def on_step_begin(self, iteration: int, trials: list, **info) -> None:
        self.searcher.set_ray_live({t.trial_id for t in trials if not t.is_finished()})
