"""Where a training came from: git commit, package versions and a hash of its settings.

`training_provenance(proxy, data)` is what every stored training carries (the search store's
trial rows, `nas retrain`'s rows, the proxy-design study's JSON), so a study can reuse another's
training when the `settings_hash` and versions match and refuse a stale one. `git_commit()`
and `package_versions()` also make up a search run's own provenance (`nas/search.py`).

Standard library only (versions come from the installed distributions' metadata, so nothing
heavy is imported); a machine without git, or a copy outside a checkout, gives a commit of None.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from importlib import metadata

PACKAGES = ("spinenet-nas", "torch", "torchvision", "ray", "hydra-core", "omegaconf", "numpy", "pycocotools")
# settings that say where or how fast a training runs, not what it trains: left out of the hash.
# The runtime settings (proxy_trainer/runtime.py) are among them. Loader workers, their persistence
# and pinned memory change no batch. `amp` and `channels_last` do change float rounding (bf16
# matmuls, other conv kernels), but so do the thread count and the machine, which the hash has never
# held (`device: auto` is a CPU or a GPU by machine): the model, data, schedule and seed are the
# same, so reusing a training across them is as sound as reusing one across machines. The input
# cache (proxy_trainer/data/input_cache.py) gives the same pixels as decoding. Trainings recorded
# before these settings keep their hashes (tests/proxy_trainer/test_runtime_settings.py,
# test_input_cache.py).
LOCAL_SETTINGS = frozenset({"tier", "num_threads", "cache_dir", "cache_images", "num_workers",
                            "amp", "channels_last", "pin_memory", "persistent_workers", "input_cache",
                            "input_cache_dir"})
# settings added after trainings were stored, left out of the hash at these values (their off
# state), so that every training stored before them keeps its hash
NEUTRAL_DEFAULTS = {"scale_jitter": 0.0}
DETECTION = "detection"  # the task every training before tasks trained
HERE = os.path.dirname(os.path.abspath(__file__))


def _git(*args: str) -> str | None:
    try:
        done = subprocess.run(["git", *args], cwd=HERE, check=False, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def git_commit() -> str | None:
    """The checkout's HEAD commit, or None (no git, not a checkout)."""
    return _git("rev-parse", "HEAD") or None


def git_dirty() -> bool | None:
    """Whether tracked files differ from the commit; None when unknown."""
    status = _git("status", "--porcelain", "--untracked-files=no")
    return None if status is None else bool(status)


def package_versions() -> dict[str, str | None]:
    """The installed version of each of `PACKAGES` (None where not installed)."""
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def settings_hash(proxy: dict, data: dict, task: dict | None = None) -> str:
    """SHA-256 (hex, first 16 digits) of the proxy tier's settings (its model's included), the
    data settings and the task's, as plain dicts, leaving out `LOCAL_SETTINGS`. The detection
    task (or none) adds nothing, so trainings stored before tasks keep their hashes."""
    parts = [("proxy", proxy), ("data", data)]
    if task and task.get("name", DETECTION) != DETECTION:
        parts.append(("task", task))
    kept = {name: _without_local(part) for name, part in parts}
    return hashlib.sha256(json.dumps(kept, sort_keys=True, default=str).encode()).hexdigest()[:16]


def _without_local(settings: dict) -> dict:
    return {k: v for k, v in settings.items()
            if k not in LOCAL_SETTINGS and not (k in NEUTRAL_DEFAULTS and v == NEUTRAL_DEFAULTS[k])}


def training_provenance(proxy, data, task=None) -> dict:
    """Commit (and whether the checkout differs from it), settings hash and package versions of a
    training with `proxy`, `data` and `task` (ProxyConfig, DataConfig and TaskConfig or None, or
    their plain dicts)."""
    proxy, data, task = (part if part is None or isinstance(part, dict) else part.to_dict()
                         for part in (proxy, data, task))
    return {"git_commit": git_commit(), "git_dirty": git_dirty(), "settings_hash": settings_hash(proxy, data, task),
            "packages": package_versions()}
