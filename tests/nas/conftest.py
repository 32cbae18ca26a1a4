"""Shared helpers of the nas tests: smoke-tier search configs under tmp paths, Ray environment,
the test hooks' folder on the path (`support/`: a trainable with fault injection and waits, and
a `nas` CLI that searches with it), and waiting on a condition with a deadline (never a bare sleep)."""

from __future__ import annotations

import os
import sys
import time

import pytest

from nas.config import SearchConfig, compose_config

SUPPORT_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "support")
sys.path.insert(0, SUPPORT_DIR)  # the tests import `trial_hooks`


def support_path() -> str:
    """PYTHONPATH with `SUPPORT_DIR` first: Ray workers import the test trainable's module by name
    and see only what PYTHONPATH names (not the driver's sys.path)."""
    return os.pathsep.join(filter(None, [SUPPORT_DIR, os.environ.get("PYTHONPATH")]))


RAY_ENV = {
    "PYTHONPATH": support_path(),
    "RAY_AUTH_MODE": "disabled",
    "RAY_CHDIR_TO_TRIAL_DIR": "0",
    "TUNE_WARN_EXCESSIVE_EXPERIMENT_CHECKPOINT_SYNC_THRESHOLD_S": "0",
    "TUNE_GLOBAL_CHECKPOINT_S": "1",
}


# the smoke tier cut to one epoch on 48 small synthetic images: a real training in a few seconds
TINY = ["proxy=smoke", "proxy.epochs=1", "data.synth_images=48", "data.heldout_images=16", "data.synth_size=64"]


def smoke_overrides(run_dir, cache_dir, trials=4, concurrency=2, *extra) -> list[str]:
    """Overrides of a small real search: tiny smoke tier, synthetic data cached in `cache_dir`."""
    return [
        f"run.dir={run_dir}",
        "run.name=test",
        f"data.cache_dir={cache_dir}",
        *TINY,
        f"trials={trials}",
        f"concurrency={concurrency}",
        "checkpoint_every=2",
        "cluster.cpus_per_trial=1",
        *extra,
    ]


def smoke_config(run_dir, cache_dir, trials=4, concurrency=2, *extra) -> SearchConfig:
    """The typed config of `smoke_overrides`."""
    return SearchConfig.from_dict(compose_config(smoke_overrides(run_dir, cache_dir, trials, concurrency, *extra)))


def wait_until(condition, deadline_s: float, what: str, poll_s: float = 0.1):
    """Poll `condition()` until it returns a truthy value; fail after `deadline_s` seconds."""
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        value = condition()
        if value:
            return value
        time.sleep(poll_s)  # polling interval of a condition with a deadline, not a timed wait
    pytest.fail(f"timed out after {deadline_s:.0f} s waiting for {what}")


@pytest.fixture(scope="module")
def ray_env():
    """The Ray environment variables for this module (restored afterwards)."""
    old = {k: os.environ.get(k) for k in RAY_ENV}
    os.environ.update(RAY_ENV)
    yield dict(RAY_ENV)
    for key, value in old.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory):
    """One synthetic-data cache per test module."""
    return tmp_path_factory.mktemp("cache")


class Driver:
    """A `nas search` run in a subprocess (`python -m hooked_nas`: the test trainable, hooks from
    `env`), its stdout/stderr going to files that tests poll."""

    def __init__(self, args: list[str], env: dict, folder, name: str):
        import subprocess

        self.out, self.err = folder / f"{name}.out", folder / f"{name}.err"
        env = {**env, "PYTHONPATH": support_path()}
        with open(self.out, "w") as out, open(self.err, "w") as err:
            self.proc = subprocess.Popen([sys.executable, "-m", "hooked_nas", "search", *args], env=env, stdout=out,
                                         stderr=err)

    @property
    def stdout(self) -> str:
        return self.out.read_text()

    @property
    def stderr(self) -> str:
        return self.err.read_text()

    def signal(self, signum: int) -> None:
        self.proc.send_signal(signum)

    def wait(self, deadline_s: float = 120) -> int:
        """The exit status once the process ended (fails the test after `deadline_s`)."""
        import subprocess

        try:
            return self.proc.wait(timeout=deadline_s)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            pytest.fail(f"nas search did not end within {deadline_s:.0f} s; stderr: {self.stderr[-1500:]}")


def started_counts(marker_dir) -> dict[int, int]:
    """How often each proposal index began training (the wait hook's `started-<index>` markers)."""
    return {
        int(p.name.split("-")[1]): len(p.read_text().split())
        for p in marker_dir.glob("started-*")
    }
