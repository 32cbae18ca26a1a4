"""The results store's errors: what a caller of `nas/store.py` can be told, each as one line.

`StoreError` is a `UserInputError` (the CLI prints it as one line, exit code 2);
`NoSuchTrialError` is the store answering "no such trial"; `sqlite_failure` turns any SQLite
error into a StoreError that names the file, what went wrong and what to do.
"""

from __future__ import annotations

import os

from search_space.errors import UserInputError


class StoreError(UserInputError):
    """A run folder or store that cannot be used as asked (missing, unknown trial, not a store)."""


class NoSuchTrialError(StoreError):
    """The store has no trial of that id, or no successful trial for 'best'."""


def sqlite_failure(path: str, err: Exception, writing: bool) -> StoreError:
    """One line for an SQLite error on the store at `path`: what happened and what to do."""
    text = str(err) or type(err).__name__
    run_dir = os.path.dirname(path)
    if "full" in text:
        return StoreError(
            f"cannot write {path}: {text}; nothing half-written was kept. Free space, then continue "
            f"with: nas search resume={run_dir}"
        )
    if "readonly" in text or "read-only" in text:
        return StoreError(f"cannot write {path}: {text}; run writing verbs on a writable copy of the run folder")
    if "locked" in text:
        return StoreError(f"{path} is locked by another process ({text}); try again when it is done")
    action = "written" if writing else "read"
    return StoreError(
        f"{path} cannot be {action}: {text}. The file is damaged or not a spinenet-nas results store; "
        f"restore a copy, or salvage rows with: sqlite3 {path} .recover"
    )
