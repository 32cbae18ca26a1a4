"""One search run: the run folder (locked) and its store, Ray start-up, a fresh Tuner, and the
closing report with the best spec written next to the store.

`run_search(cfg, resuming)` is what `nas search` calls. A resumed search is rebuilt from the
store alone (`nas/searcher.py`): it never reads Ray's experiment state back (no `Tuner.restore`,
nothing unpickled from the run folder), so a run folder received from someone else is data,
not code. What that gives up from Ray's own restore: a trial interrupted mid-training starts
again from its first epoch (the proxy trainings keep no checkpoints anyway), and ASHA's rungs
start empty, so the first trials after a resume are compared only with each other at each rung.

Locally Ray Tune's `storage_path` is the run folder (experiment folder `ray/`); on a cluster it is
`cluster.storage` (required when the cluster has more than one node: a path only this machine
can see would lose trials).
"""

from __future__ import annotations

import os
import platform
import signal
from collections.abc import Iterator
from contextlib import contextmanager

from nas.config import ConfigError, SearchConfig
from nas.interrupt import SearchInterrupted, StopOnRequest, StopRequest
from nas.progress import closing_text
from nas.ray_start import init_ray, storage_location
from nas.run_folder import RunFolder, write_atomically
from nas.store import ResultsStore
from search_space.serialize import spec_to_json
from search_space.tf_format import to_tf_text


def provenance() -> dict:
    """Git commit, package versions and hardware of this machine."""
    from proxy_trainer.provenance import git_commit, package_versions

    return {
        "git_commit": git_commit(),
        "packages": package_versions(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "gpus": _gpu_names(),
    }


def _gpu_names() -> list[str]:
    import torch

    return (
        [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())] if torch.cuda.is_available() else []
    )


def check_data(cfg: SearchConfig) -> None:
    """Load and validate the data set once, before Ray (and, for a new search, before its run
    folder): a bad data set stops the search with one line and nothing recorded; the synthetic set
    is generated here, once, and so is the input cache when the data uses one (trials then only
    map it).

    Raises:
        DataError: what is wrong with which file.
    """
    from proxy_trainer.data.input_cache import split_caches
    from proxy_trainer.data.prepare import prepare_data
    from proxy_trainer.tasks import task_runner

    prepared = prepare_data(cfg.data, masks=task_runner(cfg.task.name).needs_masks)  # instance: masks checked
    counts = prepared.summary()
    print(f"data: {counts['train_images']} training images, {counts['val_images']} held out for the "
          f"reward, {counts['num_classes']} classes", flush=True)
    split_caches(prepared, cfg.proxy.image_size, cfg.data, announce=lambda line: print(line, flush=True))


def prepare_run(cfg: SearchConfig, resuming: bool) -> None:
    """Create the store; record config and provenance for a new run.

    Raises:
        ConfigError: a new run would reuse a folder that already holds a search.
    """
    if not resuming and not ResultsStore.is_blank(cfg.db_path):
        with ResultsStore.open_readonly(cfg.db_path) as old:
            if old.count_trials() or old.max_proposal_index() >= 0:
                raise ConfigError(
                    f"{cfg.run_dir} already holds a search; continue it with resume={cfg.run_dir} "
                    "or choose another run.name (or run.dir)"
                )
    store = ResultsStore(cfg.db_path)
    try:
        if not resuming:
            store.set_meta("config", cfg.plain)
        store.set_meta("provenance", provenance())
    finally:
        store.close()


def build_scheduler(cfg: SearchConfig):
    """ASHA on the per-epoch reports of the task's reward metric, or None for FIFO."""
    if cfg.scheduler.name != "asha":
        return None
    from ray.tune.schedulers import ASHAScheduler

    # iterations 1..epochs are the epoch reports; epochs + 1 is the final summary report
    return ASHAScheduler(
        time_attr="training_iteration",
        metric=cfg.task.reward_metric,
        mode="max",
        max_t=cfg.proxy.epochs + 1,
        grace_period=cfg.scheduler.grace_period,
        reduction_factor=cfg.scheduler.reduction_factor,
    )


def trial_config(cfg: SearchConfig) -> dict:
    """What every trial receives besides its spec: proxy, data and task dicts, CPUs per trial."""
    return {
        "proxy": cfg.proxy.to_dict(),
        "data": cfg.data.to_dict(),
        "task": cfg.task.to_dict(),
        "cpus_per_trial": cfg.cluster.cpus_per_trial,
    }


def make_tuner(cfg: SearchConfig, stop_request: StopRequest, trainable=None):
    """A fresh Tuner whose searcher is rebuilt from the store (new run and resume alike).

    Args:
        trainable: the Ray Tune function trainable of every trial; None: `nas.trainable.train_proxy`.
    """
    import ray
    from ray import tune

    from nas.progress import SearchProgress
    from nas.searcher import ControllerSearcher, TrialErrors

    if trainable is None:
        from nas.trainable import train_proxy as trainable

    storage, name = storage_location(cfg, sum(1 for n in ray.nodes() if n.get("Alive")))
    trainable = tune.with_resources(trainable, {"cpu": cfg.cluster.cpus_per_trial, "gpu": cfg.cluster.gpus_per_trial})
    searcher = ControllerSearcher(cfg, trial_config(cfg), stop_request)
    tune_config = tune.TuneConfig(
        search_alg=searcher,
        scheduler=build_scheduler(cfg),
        num_samples=-1,
        max_concurrent_trials=cfg.concurrency,
        reuse_actors=True,
    )
    run_config = tune.RunConfig(
        storage_path=storage,
        name=name,
        verbose=0,
        stop=StopOnRequest(stop_request),
        failure_config=tune.FailureConfig(max_failures=cfg.cluster.max_failures),
        callbacks=[TrialErrors(searcher), SearchProgress(cfg.db_path, cfg.trials, stop_request)],
    )
    return tune.Tuner(trainable, tune_config=tune_config, run_config=run_config)


def write_best(cfg: SearchConfig) -> dict[str, str]:
    """Write the best trial's spec (JSON and TF Model Garden form) into the run folder, atomically.

    Raises:
        RunFolderError: a file could not be written (full disk); the old file, if any, stays.
    """
    with ResultsStore.open_readonly(cfg.db_path) as store:
        if store.summary()["best_trial"] is None:
            return {}
        spec = store.trial_spec("best")
    folder = RunFolder(cfg.run_dir)
    files = {"best spec": folder.best_spec, "TF export": folder.best_spec_tf}
    write_atomically(files["best spec"], spec_to_json(spec) + "\n")
    write_atomically(files["TF export"], to_tf_text(spec) + "\n")
    return files


@contextmanager
def owned_run_folder(cfg: SearchConfig, resuming: bool) -> Iterator[None]:
    """Checked data and the run folder, locked for as long as the block runs. A resume takes the
    lock before any work; a new search checks its data before it creates its run folder.

    Raises:
        RunFolderError: the folder cannot be made or written, or a live search holds it.
        DataError: the data set is bad.
    """
    lock = RunFolder.create(cfg.run_dir).lock() if resuming else None
    try:
        if not cfg.is_replay:
            check_data(cfg)
        lock = lock or RunFolder.create(cfg.run_dir).lock()
        yield
    finally:
        if lock is not None:
            lock.release()


def run_search(cfg: SearchConfig, resuming: bool = False, trainable=None) -> dict:
    """Run (or continue) a search to `cfg.trials` stored trials; prints progress and the closing report.

    Args:
        trainable: the trials' Ray Tune trainable (None: `nas.trainable.train_proxy`; tests give
            one with fault injection, `tests/nas/support/trial_hooks.py`).

    Returns:
        the store's summary at the end.
    Raises:
        ConfigError / UserInputError: bad configuration, data, run folder or cluster storage.
        SearchInterrupted: SIGINT/SIGTERM stopped it (after the closing report when the stop was clean).
    """
    request = StopRequest()
    request.install()
    try:
        with owned_run_folder(cfg, resuming):
            summary = _search_locked(cfg, resuming, request, trainable)
    except KeyboardInterrupt:  # ours, or re-raised bare by library code that caught it on the way
        raise SearchInterrupted(request.signum or signal.SIGINT) from None
    except SystemExit as end:  # SIGTERM while Ray's own handler (sys.exit(SIGTERM)) was installed
        if end.code != signal.SIGTERM:
            raise
        raise SearchInterrupted(signal.SIGTERM) from None
    finally:
        request.restore()
    if request.error is not None:
        raise request.error
    if request.signum is not None:
        raise SearchInterrupted(request.signum)
    return summary


def _search_locked(cfg: SearchConfig, resuming: bool, request: StopRequest, trainable) -> dict:
    prepare_run(cfg, resuming)
    if cfg.is_replay:
        from nas.replay import run_replay

        run_replay(cfg)
    elif _stored_trials(cfg) < cfg.trials:  # a resume of a finished search only reports
        _run_tune(cfg, request, trainable)
    files = write_best(cfg)
    with ResultsStore.open_readonly(cfg.db_path) as store:
        summary, rows = store.summary(), store.leaderboard(limit=10)
    print(closing_text(cfg.run_dir, summary, rows, files), flush=True)
    return summary


def _stored_trials(cfg: SearchConfig) -> int:
    with ResultsStore.open_readonly(cfg.db_path) as store:
        return store.count_trials()


def _run_tune(cfg: SearchConfig, request: StopRequest, trainable) -> None:
    import logging

    import ray

    os.environ.setdefault("RAY_AIR_NEW_OUTPUT", "0")  # our own progress lines replace Tune's tables
    os.environ["TUNE_DISABLE_SIGINT_HANDLER"] = "1"  # SIGINT is handled by `request`, like SIGTERM
    logging.getLogger("ray.tune.tune").setLevel(logging.CRITICAL)  # its stop notes point at Tuner.restore
    started_here = init_ray(cfg)
    request.install()  # ray.init installs its own SIGTERM handler
    try:
        tuner = make_tuner(cfg, request, trainable)
        request.graceful = True
        tuner.fit()
    finally:
        request.graceful = False
        if started_here:
            ray.shutdown()
