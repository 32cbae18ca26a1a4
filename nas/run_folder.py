"""The run folder of a search: its file names, its validation, the `RUN:TRIAL` syntax that
names a stored trial, its lock and its atomic writes.

- `RunFolder(path)` owns the names inside a run folder: the results store `search.db`, Ray
  Tune's experiment folder `ray/`, the best spec `best_spec.json` and its TF Model Garden form
  `best_spec_tf.txt`, and the lock file `search.lock`. `RunFolder.existing(path)` is the one
  check that a folder holds a search (a missing folder or store is one line naming the fix);
  `RunFolder.create(path)` makes a new one, refusing a path that is a file, lies under a file,
  or sits on read-only media.
- `RunTrial.parse("RUN:TRIAL")` reads the syntax (`TRIAL` is a trial id or `best`);
  `RunTrial.find(text)` is the same reading for a SOURCE that may be something else, and
  `.spec()` loads the stored architecture.
- `RunLock(run_dir)` holds an OS file lock (`flock`) on `<run dir>/search.lock` while a search or
  a resume runs. The kernel releases it when the process ends in any way (SIGKILL included), so
  a stale lock file never blocks a resume; a second search on a live run is refused with one
  line naming the process that holds it. Readers (show, report, export, ...) never take it.
- `write_atomically(path, text)` writes a sibling temporary file, syncs it and renames it over
  `path`: a reader sees the old file or the new one, never an empty or half-written one; on a
  full disk the temporary file is removed and the old file stays.
"""

from __future__ import annotations

import datetime
import fcntl
import os
import socket
from dataclasses import dataclass
from typing import ClassVar

from search_space.errors import UserInputError

BEST = "best"  # the TRIAL of RUN:best: the run's best successful trial


class RunFolderError(UserInputError):
    """A run folder that cannot be created, locked or written."""


def _inside(name: str) -> property:
    """A `RunFolder` property: the path of `name` inside the folder."""
    return property(lambda folder: os.path.join(folder.path, name), doc=f"<run dir>/{name}")


@dataclass(frozen=True)
class RunFolder:
    """One run folder and the names of what a search keeps in it."""

    path: str

    STORE_FILE: ClassVar[str] = "search.db"  # the results store (nas/store.py)
    RAY_DIR: ClassVar[str] = "ray"  # Ray Tune's experiment folder (local runs)
    BEST_SPEC_FILE: ClassVar[str] = "best_spec.json"  # the best trial's spec, JSON form
    BEST_SPEC_TF_FILE: ClassVar[str] = "best_spec_tf.txt"  # the same spec, TF Model Garden form
    LOCK_FILE: ClassVar[str] = "search.lock"  # held by the search that writes the folder

    store = _inside(STORE_FILE)
    ray = _inside(RAY_DIR)
    best_spec = _inside(BEST_SPEC_FILE)
    best_spec_tf = _inside(BEST_SPEC_TF_FILE)
    lock_file = _inside(LOCK_FILE)

    def has_store(self) -> bool:
        """Whether the folder holds a results store file."""
        return os.path.isfile(self.store)

    @classmethod
    def existing(cls, path: str) -> RunFolder:
        """The run folder at `path`, which must exist and hold a results store.

        Raises:
            RunFolderError: no such folder, or no store in it.
        """
        if not os.path.isdir(path):
            raise RunFolderError(f"run folder '{path}' does not exist; give the folder of a search run")
        folder = cls(path)
        if not folder.has_store():
            raise RunFolderError(f"{path} has no {cls.STORE_FILE}; give the folder of a search run (results/runs/NAME)")
        return folder

    @classmethod
    def create(cls, path: str) -> RunFolder:
        """Create run folder `path` (and its parents) if needed.

        Raises:
            RunFolderError: the path is a file or under one, or cannot be created or written.
        """
        if os.path.exists(path) and not os.path.isdir(path):
            raise RunFolderError(f"run.dir={path} is a file, not a folder; choose another run.dir (or run.name)")
        try:
            os.makedirs(path, exist_ok=True)
        except (NotADirectoryError, FileExistsError):
            raise RunFolderError(f"run.dir={path} lies under a file, not a folder; choose another run.dir") from None
        except OSError as err:
            raise RunFolderError(f"cannot create run.dir={path}: {err.strerror}; choose a writable run.dir") from None
        if not os.access(path, os.W_OK):
            raise RunFolderError(f"run.dir={path} is not writable (read-only media?); choose a writable run.dir")
        return cls(path)

    def lock(self) -> RunLock:
        """The folder's lock, taken (see `RunLock.acquire`)."""
        return RunLock(self.path).acquire()


@dataclass(frozen=True)
class RunTrial:
    """`RUN:TRIAL`: a trial stored in a run folder; `trial` is a trial id or 'best'."""

    run: str
    trial: str

    @classmethod
    def find(cls, text: str) -> RunTrial | None:
        """`text` read as RUN:TRIAL, or None when it is not one (no ':', an empty part, or the
        name of an existing file, which a SOURCE reads as a spec file)."""
        if ":" not in text or os.path.exists(text):
            return None
        run, _, trial = text.rpartition(":")
        return cls(run, trial) if run and trial else None

    @classmethod
    def parse(cls, text: str) -> RunTrial:
        """`text` read as RUN:TRIAL.

        Raises:
            UserInputError: no ':' or an empty part.
        """
        found = cls.find(text)
        if found is None:
            raise UserInputError(
                f"'{text}' is not RUN:TRIAL; give e.g. results/runs/NAME:{BEST} or results/runs/NAME:<trial id>"
            )
        return found

    @property
    def folder(self) -> RunFolder:
        """The run folder (validated: `RunFolder.existing`)."""
        return RunFolder.existing(self.run)

    def row(self, store) -> dict:
        """The trial's row in `store` (its run's `ResultsStore`), the best one for 'best'.

        Raises:
            StoreError: no such trial, or no successful trial for 'best'.
        """
        return store.best_trial() if self.trial == BEST else store.trial(self.trial)

    def spec(self):
        """The stored architecture (`ArchSpec`) of the trial, or of the best trial for 'best'.

        Raises:
            UserInputError: no such run folder, no store in it, or no such trial.
        """
        from nas.store import ResultsStore  # the results store: only when a run is named

        with ResultsStore.open_readonly(self.folder.store) as store:
            return store.trial_spec(self.trial)


def holder_of(run_dir: str) -> str:
    """What the lock file says about the process holding it ('' if it says nothing)."""
    try:
        with open(RunFolder(run_dir).lock_file, encoding="utf-8") as handle:
            return handle.read().strip()
    except OSError:
        return ""


class RunLock:
    """An exclusive `flock` on `<run dir>/search.lock`, held until `release()` or process exit."""

    def __init__(self, run_dir: str):
        self.run_dir = run_dir
        self.path = RunFolder(run_dir).lock_file
        self._fd: int | None = None

    def acquire(self) -> RunLock:
        """Take the lock or refuse.

        Raises:
            RunFolderError: another live process holds it (named), or the file cannot be made.
        """
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as err:
            raise RunFolderError(f"cannot create the lock file {self.path}: {err.strerror}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            holder = holder_of(self.run_dir) or "another process"
            raise RunFolderError(
                f"{self.run_dir} is in use by a running search ({holder}); wait for it to end or stop it, "
                "then resume; inspection verbs (nas show, report, ...) work meanwhile"
            ) from None
        except OSError as err:  # e.g. a file system without locks
            os.close(fd)
            raise RunFolderError(f"cannot lock {self.path}: {err.strerror}; use a local run.dir") from None
        self._fd = fd
        try:
            self._describe_holder()
        except OSError:
            pass  # a full disk: the lock holds; only the holder's description is missing
        return self

    def _describe_holder(self) -> None:
        started = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
        text = f"pid {os.getpid()} on {socket.gethostname()}, since {started}\n"
        os.ftruncate(self._fd, 0)
        os.pwrite(self._fd, text.encode("utf-8"), 0)

    def release(self) -> None:
        """Drop the lock (the file stays; an unlocked file means nothing)."""
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self):
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()


def write_atomically(path: str, text: str) -> None:
    """Replace `path` by `text` all at once (temporary sibling, fsync, rename).

    Raises:
        RunFolderError: the disk is full or the folder is not writable; `path` is unchanged.
    """
    temporary = f"{path}.tmp-{os.getpid()}"
    try:
        with open(temporary, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except OSError as err:
        raise RunFolderError(f"cannot write {path}: {err.strerror or err}; it was left as it was") from None
    finally:
        if os.path.exists(temporary):  # any failure (or a signal) before the rename
            os.remove(temporary)
