"""The Ray Tune trainable: one proxy training of one proposed spec, failures reported as data.

`train_proxy(config)` runs in a Ray worker: it rebuilds the spec and the proxy/data configs
from the trial config, matches torch threads to the trial's CPUs, calls
`proxy_trainer.train.train_and_evaluate` with `tune.report` for the per-epoch reports, and ends
with one report carrying `final=True`, the status (`ok`, `nan_loss`, `oom`, `error`), the error
text, AP metrics, FLOPs, params and seconds. It never raises for a failed training: a NaN loss,
an out-of-memory error or any exception becomes a failed result with its reason.

Test hooks, switched on by environment variables of the driver (`test_hooks_from_env`; they
travel in the trial config, so they reach workers on every node):
- `SPINENET_NAS_TEST_FAULTS="1:raise,2:nan,3:oom"`: the trial of that proposal index raises
  RuntimeError after its first epoch, trains with an exploding learning rate (a real NaN loss),
  or raises `torch.OutOfMemoryError` after its first epoch.
- `SPINENET_NAS_TEST_WAIT_DIR=DIR`: each trial appends its node id to `DIR/started-<index>` and
  waits until `DIR/release` exists (deadline: `SPINENET_NAS_TEST_WAIT_S`, default 300 s).
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Callable

from nas.store import METRIC_KEYS, utc_now
from search_space.serialize import spec_from_dict

FAULTS_ENV = "SPINENET_NAS_TEST_FAULTS"
WAIT_DIR_ENV = "SPINENET_NAS_TEST_WAIT_DIR"
WAIT_S_ENV = "SPINENET_NAS_TEST_WAIT_S"
FAULT_KINDS = ("raise", "nan", "oom")
RESULT_KEYS = ("status", "error", *METRIC_KEYS, "params", "flops", "train_seconds", "images_per_second", "epochs_done")


def test_hooks_from_env() -> dict:
    """The test hooks set in this (driver) process's environment; {} when none is."""
    hooks = {
        "faults": os.environ.get(FAULTS_ENV),
        "wait_dir": os.environ.get(WAIT_DIR_ENV),
        "wait_s": float(os.environ.get(WAIT_S_ENV, "300")),
    }
    return hooks if hooks["faults"] or hooks["wait_dir"] else {}


def injected_fault(hooks: dict, proposal_index: int) -> str | None:
    """The fault the test hooks ask for at this proposal index, or None."""
    for item in filter(None, (hooks.get("faults") or "").split(",")):
        index, _, kind = item.partition(":")
        if int(index) == proposal_index and kind in FAULT_KINDS:
            return kind
    return None


def _out_of_memory_error() -> type:
    import torch

    return getattr(torch, "OutOfMemoryError", None) or torch.cuda.OutOfMemoryError  # torch < 2.5 lacks the alias


def _hooked_report(report: Callable[[dict], None], fault: str | None) -> Callable[[dict], None]:
    """`report` that raises the injected exception after the first epoch (mid-training)."""

    def hooked(metrics: dict) -> None:
        report(metrics)
        if fault == "raise":
            raise RuntimeError(f"injected failure ({FAULTS_ENV})")
        if fault == "oom":
            raise _out_of_memory_error()(f"injected out of memory ({FAULTS_ENV})")

    return hooked


def wait_for_release(hooks: dict, proposal_index: int, node_id: str) -> None:
    """Test hook: append the node id to a started marker and wait for DIR/release, with a deadline.

    Raises:
        TimeoutError: the release marker did not appear in time.
    """
    folder = hooks.get("wait_dir")
    if not folder:
        return
    with open(os.path.join(folder, f"started-{proposal_index}"), "a", encoding="utf-8") as handle:
        handle.write(node_id + "\n")
    deadline = time.monotonic() + hooks["wait_s"]
    while not os.path.exists(os.path.join(folder, "release")):
        if time.monotonic() > deadline:
            raise TimeoutError(f"{folder}/release did not appear")
        time.sleep(0.05)  # polling a marker file the test creates


def failed_result(err: BaseException) -> dict:
    """The result of a trial that raised: status `oom` or `error`, with the reason."""
    status = "oom" if isinstance(err, _out_of_memory_error()) or "out of memory" in str(err).lower() else "error"
    result = dict.fromkeys(RESULT_KEYS)
    result.update(status=status, error=f"{type(err).__name__}: {err}"[:2000])
    return result


def run_trial(config: dict, report: Callable[[dict], None]) -> dict:
    """Train and evaluate the trial's spec; any exception becomes a failed result.

    Args:
        config: trial config with `spec` (JSON dict), `proposal_index`, `proxy`, `data` (plain dicts).
        report: called with each epoch's metrics.
    Returns:
        the `train_and_evaluate` result dict (status ok / nan_loss), or a failed one (oom / error).
    """
    from proxy_trainer.config import DataConfig, ProxyConfig
    from proxy_trainer.train import train_and_evaluate

    fault = injected_fault(config.get("test_hooks") or {}, int(config.get("proposal_index", -1)))
    try:
        spec = spec_from_dict(config["spec"])
        proxy = ProxyConfig.from_dict(config["proxy"])
        if fault == "nan":  # a real divergence: an absurd learning rate without clipping
            proxy = dataclasses.replace(proxy, lr=1e30, grad_clip=0.0)
        data = DataConfig.from_dict(config["data"])
        return train_and_evaluate(spec, proxy, data, report=_hooked_report(report, fault))
    except Exception as err:  # noqa: BLE001 - failures are data: reported, never retried
        return failed_result(err)


def _trial_cpus(config: dict) -> int:
    return max(1, int(float(config.get("cpus_per_trial", 1))))


def _set_up_and_run(config: dict, report: Callable[[dict], None]) -> dict:
    """Threads, test hooks, then `run_trial`: everything of a trial in the worker but the final report."""
    import ray
    import torch

    threads = _trial_cpus(config)
    torch.set_num_threads(threads)
    hooks = config.get("test_hooks") or {}
    wait_for_release(hooks, int(config.get("proposal_index", -1)), ray.get_runtime_context().get_node_id())
    return run_trial({**config, "proxy": dict(config["proxy"], num_threads=threads)}, report=report)


def train_proxy(config: dict) -> None:
    """Ray Tune function trainable (see module docstring). Whatever fails in here, before or
    around the training, ends as a failed final report with its reason: Ray retries a trial only
    when its worker or node dies, never because the trial's own code raised."""
    from ray import tune

    started = utc_now()
    try:
        result = _set_up_and_run(config, lambda m: tune.report({**m, "final": False, "started_at": started}))
    except Exception as err:  # noqa: BLE001 - failures are data: reported, never retried
        result = failed_result(err)
    final = {key: result.get(key) for key in RESULT_KEYS}
    tune.report({**final, "final": True, "started_at": started, "proposal_index": config.get("proposal_index")})
