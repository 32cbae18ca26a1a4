"""The run folder a search owns: created with one-line errors, locked for the life of the search,
and written to only atomically.

- `make_run_dir(path)` creates the folder; a path that is a file, lies under a file, or sits on
  read-only media is refused with one line naming the path and the fix.
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

from search_space.errors import UserInputError

LOCK_FILE = "search.lock"


class RunFolderError(UserInputError):
    """A run folder that cannot be created, locked or written."""


def make_run_dir(path: str) -> str:
    """Create run folder `path` (and its parents) if needed; returns it.

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
    return path


def holder_of(run_dir: str) -> str:
    """What the lock file says about the process holding it ('' if it says nothing)."""
    try:
        with open(os.path.join(run_dir, LOCK_FILE), encoding="utf-8") as handle:
            return handle.read().strip()
    except OSError:
        return ""


class RunLock:
    """An exclusive `flock` on `<run dir>/search.lock`, held until `release()` or process exit."""

    def __init__(self, run_dir: str):
        self.run_dir = run_dir
        self.path = os.path.join(run_dir, LOCK_FILE)
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
