"""A local `nas search` as a user runs it, in a subprocess with Ray's token authentication left on:
while a trial trains, no process of the search listens on a non-loopback address (checked with
`ss -ltnp`), a second search on the same run folder is refused naming the holder, `nas show`
works; a double Ctrl+C stops at once with the interrupted status and a consistent store; the
resume trains exactly the proposals that were in flight, under their own indexes."""

import os
import re
import signal
import subprocess
import sys

import pytest
from trial_hooks import WAIT_DIR_ENV, WAIT_S_ENV

from nas.interrupt import EXIT_INTERRUPTED
from nas.store import ResultsStore

from .conftest import Driver, smoke_overrides, started_counts, wait_until

pytestmark = pytest.mark.ray
LOOPBACK = re.compile(r"^(127\.|\[::ffff:127\.|\[::1\]|localhost)")


def process_tree(root: int) -> set[int]:
    """`root` and all its descendants, from /proc."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as handle:
                    parents[int(entry)] = int(handle.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue  # the process ended while we looked
    tree, grew = {root}, True
    while grew:
        more = {pid for pid, parent in parents.items() if parent in tree} - tree
        tree |= more
        grew = bool(more)
    return tree


def listening(pids: set[int]) -> list[tuple[str, str, int]]:
    """(local address, process name, pid) of every listening TCP socket owned by one of `pids`."""
    lines = subprocess.run(["ss", "-ltnpH"], capture_output=True, text=True, check=True).stdout.splitlines()
    found = []
    for line in lines:
        for name, pid in re.findall(r'\("([^"]+)",pid=(\d+)', line):
            if int(pid) in pids:
                found.append((line.split()[3], name, int(pid)))
    return found


@pytest.fixture
def user_env(tmp_path, cache_dir):
    """The environment of a user's shell: no RAY_AUTH_MODE (token auth on), HOME of its own."""
    env = {k: v for k, v in os.environ.items() if k != "RAY_AUTH_MODE"}
    markers = tmp_path / "markers"
    markers.mkdir()
    env.update({"HOME": str(tmp_path / "home"), WAIT_DIR_ENV: str(markers), WAIT_S_ENV: "240"})
    return env, markers


def test_local_search_is_loopback_only_locked_and_stops_on_double_sigint(tmp_path, cache_dir, user_env):
    env, markers = user_env
    run_dir = tmp_path / "run"
    args = smoke_overrides(run_dir, cache_dir, 2, 2)
    first = Driver(args, env, tmp_path, "first")
    wait_until(lambda: len(started_counts(markers)) == 2, 180, "both trials to start training")

    sockets = listening(process_tree(first.proc.pid))
    names = {name for _, name, _ in sockets}
    assert {"gcs_server", "raylet"} <= names and any(n.startswith("ray::") for n in names), sockets
    assert [s for s in sockets if not LOOPBACK.match(s[0])] == []
    assert "Token authentication is enabled" in first.stderr
    assert os.path.exists(tmp_path / "home" / ".ray" / "auth_token")

    second = subprocess.run([sys.executable, "-m", "nas", "search", f"resume={run_dir}"], env=env, check=False,
                            capture_output=True, text=True, timeout=120)
    assert second.returncode == 2 and second.stderr.count("\n") == 1
    assert f"is in use by a running search (pid {first.proc.pid} on " in second.stderr
    shown = subprocess.run([sys.executable, "-m", "nas", "show", str(run_dir)], env=env, check=False,
                           capture_output=True, text=True, timeout=120)
    assert shown.returncode == 0, shown.stderr

    first.signal(signal.SIGINT)
    wait_until(lambda: "stopping the running trials" in first.stderr, 60, "the first SIGINT to be taken")
    first.signal(signal.SIGINT)
    assert first.wait() == EXIT_INTERRUPTED
    assert f"interrupted by SIGINT; continue with: nas search resume={run_dir}" in first.stderr
    assert "Traceback" not in first.stderr
    with ResultsStore.open_readonly(str(run_dir / "search.db")) as store:
        assert store.count_trials() == 0
        assert sorted(p["proposal_index"] for p in store.pending_proposals()) == [0, 1]

    (markers / "release").touch()
    resumed = Driver([f"resume={run_dir}"], env, tmp_path, "resumed")
    assert resumed.wait() == 0, resumed.stderr[-2000:]
    with ResultsStore.open_readonly(str(run_dir / "search.db")) as store:
        rows = store.trials()
        assert store.pending_proposals() == []
    assert sorted(r["proposal_index"] for r in rows) == [0, 1] and {r["status"] for r in rows} == {"ok"}
    assert started_counts(markers) == {0: 2, 1: 2}  # each in-flight proposal trained again once, nothing else
    assert "search finished: 2 trials (ok 2)" in resumed.stdout
