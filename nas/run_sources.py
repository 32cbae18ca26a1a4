"""`RUN:TRIAL` and `RUN:best` sources: a spec stored in a run folder's results store."""

from __future__ import annotations

import os

from search_space.errors import UserInputError
from search_space.spec import ArchSpec


def split_run_trial(text: str) -> tuple[str, str]:
    """Split `RUN:TRIAL` into (run folder, trial id or 'best').

    Raises:
        UserInputError: no ':' or an empty part.
    """
    run, _, trial = text.rpartition(":")
    if not run or not trial:
        raise UserInputError(
            f"'{text}' is not RUN:TRIAL; give e.g. results/runs/NAME:best or results/runs/NAME:<trial id>"
        )
    return run, trial


def run_db(run: str) -> str:
    """The store path of run folder `run`.

    Raises:
        UserInputError: no such folder or no store in it.
    """
    if not os.path.isdir(run):
        raise UserInputError(f"run folder '{run}' does not exist; give RUN:TRIAL with an existing run folder")
    from nas.store import STORE_FILE, store_file

    db = store_file(run)
    if not os.path.isfile(db):
        raise UserInputError(f"{run} has no {STORE_FILE}; give the folder of a search run")
    return db


def load_run_spec(run: str, trial: str) -> ArchSpec:
    """The spec of trial `trial` (or the best trial for 'best') of the run in folder `run`.

    Raises:
        UserInputError: no such run folder, no store in it, or no such trial.
    """
    from nas.store import ResultsStore

    with ResultsStore.open_readonly(run_db(run)) as store:
        return store.trial_spec(trial)
