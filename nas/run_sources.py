"""`RUN:TRIAL` and `RUN:best` sources: a spec stored in a run folder's results store."""

from __future__ import annotations

import os

from search_space.errors import UserInputError
from search_space.spec import ArchSpec


def load_run_spec(run: str, trial: str) -> ArchSpec:
    """The spec of trial `trial` (or the best trial for 'best') of the run in folder `run`.

    Raises:
        UserInputError: no such run folder, no store in it, or no such trial.
    """
    if not os.path.isdir(run):
        raise UserInputError(f"run folder '{run}' does not exist; give RUN:TRIAL with an existing run folder")
    db = os.path.join(run, "search.db")
    if not os.path.exists(db):
        raise UserInputError(f"{run} has no search.db; give the folder of a search run")
    from nas.store import ResultsStore  # noqa: PLC0415 - the store is only needed here

    with ResultsStore.open_readonly(db) as store:
        return store.trial_spec(trial)
