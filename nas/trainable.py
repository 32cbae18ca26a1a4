"""The Ray Tune trainable: one proxy training of one proposed spec, failures reported as data.

`train_proxy(config)` runs in a Ray worker: it rebuilds the spec and the proxy/data configs
from the trial config, matches torch threads to the trial's CPUs, calls
`proxy_trainer.train.train_and_evaluate` and reports each epoch's `TrialResult` (not final) to
`tune.report`, then one final report: the trial's `TrialResult` with its start time, proposal
index and provenance (`nas/trial_report.py` makes the flat dicts). It never raises for a failed
training: a NaN loss, an out-of-memory error or any exception, during the training or around
it, becomes a failed result with its reason (status `nan_loss`, `oom` or `error`).
`report_trial(config, train)` is that body for any training function with the signature of
`train_and_evaluate`.
"""

from __future__ import annotations

from collections.abc import Callable

from nas.store import utc_now
from nas.trial_report import to_report
from search_space.serialize import spec_from_dict
from search_space.trial_result import DETECTION_REWARD, EpochReport, TrialResult, TrialStatus

Train = Callable[..., TrialResult]  # (spec, proxy, data, report=..., task=...) -> TrialResult


def out_of_memory_error() -> type:
    """torch's out-of-memory exception class."""
    import torch

    return getattr(torch, "OutOfMemoryError", None) or torch.cuda.OutOfMemoryError  # torch < 2.5 lacks the alias


def failed_result(err: BaseException, reward_metric: str = DETECTION_REWARD) -> TrialResult:
    """The result of a trial that raised: status `oom` or `error`, with the reason."""
    oom = isinstance(err, out_of_memory_error()) or "out of memory" in str(err).lower()
    return TrialResult.failure(TrialStatus.OOM if oom else TrialStatus.ERROR, f"{type(err).__name__}: {err}",
                               reward_metric)


def _reward_metric(config: dict) -> str:
    """The trial's reward metric (a trial config without a task is detection's)."""
    return (config.get("task") or {}).get("reward_metric", DETECTION_REWARD)


def _trial_cpus(config: dict) -> int:
    return max(1, int(float(config.get("cpus_per_trial", 1))))


def run_trial(config: dict, report: Callable[[EpochReport], None], train: Train) -> TrialResult:
    """Threads, then the training of the trial's spec with its proxy, data and task configs.

    Args:
        config: trial config with `spec` (JSON dict), `proxy`, `data`, `task` (plain dicts; no
            `task`: detection), `cpus_per_trial`.
        report: called with each epoch's report. train: `train_and_evaluate` or one like it.
    Raises:
        whatever the set-up or the training raises (`report_trial` makes it a failed result).
    """
    import torch

    from proxy_trainer.config import DataConfig, ProxyConfig, TaskConfig

    threads = _trial_cpus(config)
    torch.set_num_threads(threads)
    proxy = ProxyConfig.from_dict(dict(config["proxy"], num_threads=threads))
    return train(spec_from_dict(config["spec"]), proxy, DataConfig.from_dict(config["data"]), report=report,
                 task=TaskConfig.from_dict(config.get("task")))


def report_trial(config: dict, train: Train) -> None:
    """Run the trial with `train`, reporting each epoch, then its final result (see the module
    docstring). Whatever fails ends as a failed final report with its reason: Ray retries a trial
    only when its worker or node dies, never because the trial's own code raised."""
    from ray import tune

    from proxy_trainer.provenance import training_provenance

    started = utc_now()
    metric = _reward_metric(config)
    try:
        result = run_trial(config, lambda epoch: tune.report(to_report(TrialResult.of_epoch(epoch, metric),
                                                                       started_at=started)), train)
    except Exception as err:  # noqa: BLE001 - failures are data: reported, never retried
        result = failed_result(err, metric)
    provenance = training_provenance(config["proxy"], config["data"], config.get("task"))
    tune.report(to_report(result, provenance, started_at=started, proposal_index=config.get("proposal_index")))


def train_proxy(config: dict) -> None:
    """Ray Tune function trainable: `report_trial` with `train_and_evaluate`."""
    from proxy_trainer.train import train_and_evaluate

    report_trial(config, train_and_evaluate)
