"""The controller as a Ray Tune `Searcher`, with the results store as the single source of truth.

`suggest` hands Ray a proposal as plain JSON after recording it in the store. `on_trial_complete`
turns the trial's last report into a row (its result from `nas/trial_report.py`, its reward from
`controller.reward.RewardRule`: a failure or a missing metric gets the configured penalty),
commits it, and only then gives the reward to the controller; a trial whose row is already
stored is ignored, so nothing counts twice.

Every driver, new or resumed, builds its runtime from the store alone: the controller from its
newest checkpoint plus the rows committed after it, and the queue of proposals that an earlier
driver handed out but never stored (it was killed or stopped while they trained). Those are
suggested again first, with their own proposal index, decisions, spec and controller meta, so a
resumed search has no gap in its proposal indexes and never trains a stored trial again.

Only trials that really ended are stored (`SearchRuntime.ended`): with their final report, failed
by Ray (worker or node dead, retries used up; stored with Ray's reason, which `TrialErrors`
brings), or stopped by ASHA. A trial Tune tears down — on a stop request (SIGINT/SIGTERM,
`nas/interrupt.py`) or after a driver error — is not stored: its proposal stays pending for the
resume. A store that cannot be written stops the search with its one-line reason.
"""

from __future__ import annotations

from collections import deque

from ray.tune import Callback
from ray.tune.search import Searcher

from nas.config import SearchConfig
from nas.store import ResultsStore
from nas.store_schema import result_columns
from nas.trial_report import FINAL, ResultKeys, from_report, outcome, report_provenance
from search_space.errors import UserInputError
from search_space.serialize import spec_from_dict, spec_to_dict


def trial_row(trial_id: str, proposal, report: dict | None, error: bool, cfg: SearchConfig) -> dict:
    """The store row of a finished trial, from its last report (`nas/trial_report.py`); the reward
    is the config's `RewardRule` applied to the trial's result."""
    report = report or {}
    result = outcome(report, error, ResultKeys.of(cfg.task))
    return {
        **result_columns(result),
        "trial_id": trial_id,
        "proposal_index": proposal.index,
        "decisions": list(proposal.decisions),
        "spec": spec_to_dict(proposal.spec),
        "reward": cfg.reward.reward(result),
        "started_at": report.get("started_at"),
        "replay": report.get("replay"),
        "flops_pruned": report.get("flops_pruned", 1),  # a replayed row keeps its record's counting
        "provenance": report_provenance(report),
    }


class SearchRuntime:
    """The live side of a search in one driver: space, controller, store, outstanding proposals."""

    def __init__(self, cfg: SearchConfig):
        from controller import build_controller

        self.cfg = cfg
        self.space = cfg.space.build()
        self.store = ResultsStore(cfg.db_path)
        self.controller = build_controller(cfg.controller.name, self.space, seed=cfg.seed, **cfg.controller.options)
        if cfg.predictor is not None:
            from controller.screen import ScreenedController

            self.controller = ScreenedController(self.controller, cfg.predictor)
        self.fed = self._rebuild_controller()
        self.live: dict = {}  # trial_id -> Proposal handed to Ray by this driver, not finished
        self.requeue: deque = deque(self._handed_out_never_stored())  # (old trial id, Proposal)

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
        return len(rows)

    def _handed_out_never_stored(self) -> list:
        """Proposals of earlier drivers with no stored trial, oldest first, adopted by the controller
        (so are the proposals a predictor screen did not train: they count as proposed)."""
        pending = [(p["trial_id"], self.proposal_of(p)) for p in self.store.pending_proposals()]
        for _, proposal in pending:
            self.controller.adopt(proposal)
        for record in self.store.screened():
            self.controller.adopt(self.proposal_of(record))
        self.controller.next_index = max(self.controller.next_index, self.store.max_proposal_index() + 1)
        return pending

    def _record_screened(self, trial_id: str) -> None:
        """Store the proposals a predictor screen set aside for `trial_id`, with their predictions."""
        taken = self.controller.take_screened() if hasattr(self.controller, "take_screened") else []
        if taken:
            self.store.add_screened(trial_id, [(p.index, list(p.decisions), spec_to_dict(p.spec), predicted)
                                               for p, predicted in taken])

    def wanted(self) -> int:
        """How many more trials must be suggested to reach the requested count."""
        return self.cfg.trials - self.store.count_trials() - len(self.live)

    def suggest(self, trial_id: str) -> dict:
        """The next proposal (a re-queued one first), recorded under `trial_id`; the trial's config fragment."""
        if self.requeue:
            old_trial_id, proposal = self.requeue.popleft()
            self.store.reassign_proposal(old_trial_id, trial_id)
        else:
            proposal = self.controller.propose()
            self.store.add_proposal(trial_id, proposal.index, proposal.decisions, spec_to_dict(proposal.spec),
                                    proposal.meta)
            self._record_screened(trial_id)
        self.live[trial_id] = proposal
        return {"spec": spec_to_dict(proposal.spec), "proposal_index": proposal.index}

    def ended(self, result: dict | None, error: bool, stopping: bool) -> bool:
        """Whether a trial Tune calls complete really ended: its final report, Ray's error (not while
        stopping: the stop itself kills workers), or ASHA stopping it on an epoch report. Anything
        else (Tune tearing trials down) leaves the proposal pending for a resume."""
        if (result or {}).get(FINAL):
            return True
        if stopping:
            return False
        if error:
            return True
        asha = self.cfg.scheduler.name == "asha"
        return asha and result is not None and from_report(result, ResultKeys.of(self.cfg.task)).score is not None

    def complete(self, trial_id: str, result: dict | None, error: bool, stopping: bool = False) -> dict | None:
        """Commit the trial's row, then feed the reward; returns the row, or None if nothing was stored.

        A trial that has not `ended` is not stored (its proposal stays pending).
        """
        if trial_id not in self.live or not self.ended(result, error, stopping):
            self.live.pop(trial_id, None)
            return None
        proposal = self.live.pop(trial_id)
        row = trial_row(trial_id, proposal, result, error, self.cfg)
        if not self.store.commit_trial(row):
            return None
        self.controller.feedback(proposal, row["reward"])
        self.fed += 1
        if self.fed % self.cfg.checkpoint_every == 0:
            self.store.save_checkpoint(self.controller.state_dict(), self.fed)
        return row


class ControllerSearcher(Searcher):
    """Ray Tune Searcher around a controller; picklable (the runtime is rebuilt on demand)."""

    def __init__(self, cfg: SearchConfig, trial_config: dict, stop_request=None):
        super().__init__(metric=cfg.task.reward_metric, mode="max")
        self.cfg = cfg
        self.trial_config = trial_config  # proxy/data dicts and resources every trial receives
        self.stop_request = stop_request  # nas.interrupt.StopRequest of this driver, or None
        self._runtime: SearchRuntime | None = None
        self._errored: dict = {}  # trial_id -> last result of a trial Ray failed, until its reason comes

    def __getstate__(self):
        state = dict(self.__dict__)
        state.update(_runtime=None, stop_request=None)
        return state

    @property
    def runtime(self) -> SearchRuntime:
        if self._runtime is None:
            self._runtime = SearchRuntime(self.cfg)
        return self._runtime

    @property
    def stopping(self) -> bool:
        return self.stop_request is not None and self.stop_request.requested

    def suggest(self, trial_id: str):
        try:
            rt = self.runtime
            if self.stopping or rt.wanted() <= 0:
                return Searcher.FINISHED
            return {**self.trial_config, **rt.suggest(trial_id)}
        except UserInputError as err:  # the store cannot be read or written: stop, say why
            self._fail(err)
            return Searcher.FINISHED

    def on_trial_complete(self, trial_id: str, result: dict | None = None, error: bool = False) -> None:
        if error and not self.stopping:
            self._errored[trial_id] = result  # stored once `TrialErrors` brings Ray's reason
            return
        try:
            self.runtime.complete(trial_id, result, error, stopping=self.stopping)
        except UserInputError as err:  # the store cannot be written (full disk, ...): stop, say why
            self._fail(err)

    def on_trial_error_reason(self, trial_id: str, reason: str | None) -> None:
        """Store a trial Ray gave up on (worker or node died, retries used up) with Ray's reason."""
        if trial_id not in self._errored:
            return
        result = dict(self._errored.pop(trial_id) or {})
        if reason:
            result["error"] = reason
        try:
            self.runtime.complete(trial_id, result, True, stopping=self.stopping)
        except UserInputError as err:
            self._fail(err)

    def _fail(self, err: Exception) -> None:
        if self.stop_request is None:
            raise err
        self.stop_request.fail(err)

    def save_to_dir(self, checkpoint_dir: str, session_str: str = "default") -> None:
        """Nothing to save: the results store holds the searcher's state."""

    def restore_from_dir(self, checkpoint_dir: str) -> None:
        """Nothing to restore: the runtime is rebuilt from the results store."""

    def close(self) -> None:
        if self._runtime is not None:
            self._runtime.store.close()
            self._runtime = None


def ray_error_text(trial) -> str | None:
    """The last line of the error Ray recorded for `trial` (its error file), or None."""
    try:
        with open(trial.error_file, encoding="utf-8", errors="replace") as handle:
            lines = [line.strip() for line in handle if line.strip()]
    except (OSError, TypeError):
        return None
    return f"Ray: {lines[-1]}"[:2000] if lines else None


class TrialErrors(Callback):
    """Hands the searcher Ray's reason for each trial Ray failed (Tune tells searchers only the id)."""

    def __init__(self, searcher: ControllerSearcher):
        self.searcher = searcher

    def on_trial_error(self, iteration: int, trials: list, trial, **info) -> None:
        self.searcher.on_trial_error_reason(trial.trial_id, ray_error_text(trial))
