"""Test hooks of searches, kept out of the production trainable: a Ray Tune trainable that
trains as `nas.trainable.train_proxy` does, with faults injected and waits on marker files.

Tests pass `hooked_trainable(Hooks(...))` to `nas.search.run_search(..., trainable=...)`; the
subprocess drivers (`python -m hooked_nas`) build theirs from the environment (`Hooks.from_env`).
Ray workers import this module by name, so the tests put this folder on PYTHONPATH for every
process they start (`tests/nas/conftest.py`, `SUPPORT_DIR`).

- `faults` {proposal index: kind}: `raise` raises RuntimeError after the first epoch report,
  `nan` trains with an exploding learning rate and no clipping (a real NaN loss), `oom` raises
  `torch.OutOfMemoryError` after the first epoch report.
- `wait_dir`: before training, each trial appends its node id to `DIR/started-<index>` and waits
  until `DIR/release` exists; past `wait_s` seconds it raises TimeoutError.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import time

from nas.trainable import out_of_memory_error, report_trial

FAULTS_ENV = "SPINENET_NAS_TEST_FAULTS"  # "1:raise,2:nan,3:oom"
WAIT_DIR_ENV = "SPINENET_NAS_TEST_WAIT_DIR"
WAIT_S_ENV = "SPINENET_NAS_TEST_WAIT_S"
FAULT_KINDS = ("raise", "nan", "oom")


@dataclasses.dataclass(frozen=True)
class Hooks:
    """What the test trainable injects (see the module docstring)."""

    faults: dict = dataclasses.field(default_factory=dict)  # proposal index -> fault kind
    wait_dir: str | None = None
    wait_s: float = 300.0

    @classmethod
    def from_env(cls) -> Hooks:
        """The hooks named by `FAULTS_ENV`, `WAIT_DIR_ENV` and `WAIT_S_ENV`."""
        items = filter(None, os.environ.get(FAULTS_ENV, "").split(","))
        faults = {int(index): kind for index, _, kind in (item.partition(":") for item in items)}
        return cls(faults, os.environ.get(WAIT_DIR_ENV), float(os.environ.get(WAIT_S_ENV, "300")))


def raising_report(report, fault: str | None):
    """`report` that raises the injected exception after the first epoch (mid-training)."""

    def hooked(epoch) -> None:
        report(epoch)
        if fault == "raise":
            raise RuntimeError(f"injected failure ({FAULTS_ENV})")
        if fault == "oom":
            raise out_of_memory_error()(f"injected out of memory ({FAULTS_ENV})")

    return hooked


def wait_for_release(hooks: Hooks, index: int) -> None:
    """Append this node's id to `started-<index>`, then wait for `release` (deadline `wait_s`).

    Raises:
        TimeoutError: the release marker did not appear in time.
    """
    import ray

    with open(os.path.join(hooks.wait_dir, f"started-{index}"), "a", encoding="utf-8") as handle:
        handle.write(ray.get_runtime_context().get_node_id() + "\n")
    deadline = time.monotonic() + hooks.wait_s
    while not os.path.exists(os.path.join(hooks.wait_dir, "release")):
        if time.monotonic() > deadline:
            raise TimeoutError(f"{hooks.wait_dir}/release did not appear")
        time.sleep(0.05)  # polling a marker file the test creates


def hooked_train(spec, proxy, data, report, *, hooks: Hooks, index: int, task=None):
    """`train_and_evaluate` with the hooks of proposal `index` applied."""
    from proxy_trainer.train import train_and_evaluate

    if hooks.wait_dir:
        wait_for_release(hooks, index)
    fault = hooks.faults.get(index)
    if fault == "nan":  # a real divergence: an absurd learning rate without clipping
        proxy = dataclasses.replace(proxy, lr=1e30, grad_clip=0.0)
    return train_and_evaluate(spec, proxy, data, report=raising_report(report, fault), task=task)


def hooked_trainable(hooks: Hooks):
    """A Ray Tune function trainable: the production `report_trial` around `hooked_train`."""

    def train_proxy_with_hooks(config: dict) -> None:
        report_trial(config, functools.partial(hooked_train, hooks=hooks, index=int(config["proposal_index"])))

    return train_proxy_with_hooks
