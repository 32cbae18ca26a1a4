"""Stopping a search on SIGINT (Ctrl+C) or SIGTERM (what `kill` and job schedulers send).

While trials run, the first signal asks for a clean stop: Ray Tune stops the running trials
(`StopOnRequest`, a Tune `Stopper`), their unfinished results are not stored (their proposals stay
pending and a resume trains them again under the same proposal index), the store stays
consistent, the closing report prints the resume command, and the process exits with
`EXIT_INTERRUPTED`. A second signal forces the stop at once (`SearchInterrupted` is raised
where the program is; every store write is one transaction, so nothing is left half-written).
Outside the tuning loop (start-up, closing report) the first signal already does that.
"""

from __future__ import annotations

import os
import signal

from ray.tune.stopper import Stopper

EXIT_INTERRUPTED = 130  # exit status of a search stopped by SIGINT or SIGTERM (128 + SIGINT, as shells report)
SIGNALS = (signal.SIGINT, signal.SIGTERM)


class SearchInterrupted(KeyboardInterrupt):
    """The search was stopped by a signal (a KeyboardInterrupt, so no `except Exception` swallows it)."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum

    @property
    def name(self) -> str:
        return signal.Signals(self.signum).name


class StopRequest:
    """Signal handlers for SIGINT/SIGTERM that record a stop request (see module docstring)."""

    def __init__(self):
        self.signum: int | None = None  # the first stop signal received, if any
        self.error: Exception | None = None  # a failure of the driver's own that stops the search
        self.graceful = False  # True while Tune runs: the first signal asks Tune to stop
        self._previous: dict[int, object] = {}

    @property
    def requested(self) -> bool:
        return self.signum is not None or self.error is not None

    def fail(self, error: Exception) -> None:
        """Stop the search because of `error` (e.g. the store cannot be written); it is raised
        once Tune has stopped the trials."""
        self.error = self.error or error

    def install(self) -> None:
        """(Re)install the handlers: call again after `ray.init`, which sets its own for SIGTERM."""
        for signum in SIGNALS:
            previous = signal.signal(signum, self._handle)
            self._previous.setdefault(signum, previous)

    def restore(self) -> None:
        """Put back the handlers that were there before the first `install`."""
        for signum, previous in self._previous.items():
            signal.signal(signum, previous)
        self._previous.clear()

    def _handle(self, signum: int, frame) -> None:
        first = not self.requested
        self.signum = self.signum or signum
        if not (first and self.graceful):
            raise SearchInterrupted(signum)
        os.write(2, (  # not sys.stderr: the handler may interrupt a write to it (reentrant call)
            f"nas search: {signal.Signals(signum).name} received; stopping the running trials (they are trained "
            "again on resume). Send it again to stop at once.\n"
        ).encode())


class StopOnRequest(Stopper):
    """A Tune stopper that stops the whole experiment once a stop was requested."""

    def __init__(self, request: StopRequest):
        self.request = request

    def __getstate__(self):  # Tune pickles its run config; the live request stays in this process
        return {"request": None}

    def __call__(self, trial_id: str, result: dict) -> bool:
        return False

    def stop_all(self) -> bool:
        return self.request is not None and self.request.requested
