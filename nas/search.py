"""One search run: the run folder and its store, Ray start-up, the Tuner (or its restore), and
the closing report with the best spec written next to the store.

`run_search(cfg, resuming)` is what `nas search` calls. Locally Ray Tune's `storage_path` is
`<run dir>/ray` (absolute); on a cluster it is `cluster.storage` (required when the cluster has
more than one node: a path only this machine can see would lose trials).
"""

from __future__ import annotations

import os
import platform
import subprocess
from importlib import metadata

from nas.config import ConfigError, SearchConfig
from nas.progress import SearchProgress, closing_text
from nas.store import ResultsStore
from search_space.serialize import spec_to_json
from search_space.tf_format import to_tf_text

RAY_DIR_NAME = "ray"  # Tune experiment folder name under the storage path (local runs)
PACKAGES = ("spinenet-nas", "torch", "torchvision", "ray", "hydra-core", "omegaconf", "numpy", "pycocotools")


def provenance() -> dict:
    """Git commit, package versions and hardware of this machine."""
    here = os.path.dirname(os.path.abspath(__file__))
    try:
        commit = (
            subprocess.run(
                ["git", "rev-parse", "HEAD"], cwd=here, check=False, capture_output=True, text=True, timeout=10
            ).stdout.strip()
            or None
        )
    except (OSError, subprocess.SubprocessError):
        commit = None
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return {
        "git_commit": commit,
        "packages": versions,
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
    """Load and validate the data set once, before the run folder or Ray: a bad data set stops
    the search with one line and nothing recorded; the synthetic set is generated here, once.

    Raises:
        DataError: what is wrong with which file.
    """
    from proxy_trainer.data.prepare import prepare_data

    counts = prepare_data(cfg.data).summary()
    print(f"data: {counts['train_images']} training images, {counts['val_images']} held out for the "
          f"reward, {counts['num_classes']} classes", flush=True)


def prepare_run(cfg: SearchConfig, resuming: bool) -> None:
    """Create the run folder and store; record config and provenance for a new run.

    Raises:
        ConfigError: a new run would overwrite a folder that already holds trials.
    """
    if not resuming and os.path.exists(cfg.db_path):
        with ResultsStore.open_readonly(cfg.db_path) as old:
            if old.count_trials():
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


def init_ray(cfg: SearchConfig) -> bool:
    """Start (local) or join (cluster) Ray unless it is up already; returns True if started here."""
    import ray

    if ray.is_initialized():
        return False
    os.environ.setdefault("RAY_CHDIR_TO_TRIAL_DIR", "0")  # trials keep the launch directory (relative data paths)
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    if cfg.cluster.kind == "local":
        ray.init(
            num_cpus=cfg.cluster.num_cpus, num_gpus=cfg.cluster.num_gpus, include_dashboard=False, log_to_driver=False
        )
    else:
        ray.init(address=cfg.cluster.address, log_to_driver=False)
    return True


def storage_location(cfg: SearchConfig, alive_nodes: int) -> tuple[str, str]:
    """(storage_path, experiment name) for Ray Tune.

    Raises:
        ConfigError: a cluster of several nodes without `cluster.storage`.
    """
    if cfg.cluster.storage:
        storage = cfg.cluster.storage
        return (storage if "://" in storage else os.path.abspath(storage)), cfg.run_name
    if alive_nodes > 1:
        raise ConfigError(
            f"the Ray cluster has {alive_nodes} nodes but cluster.storage is not set; the local run folder "
            "is not visible to the other nodes. Give cluster.storage=s3://... (or a path every node mounts)"
        )
    return cfg.run_dir, RAY_DIR_NAME


def build_scheduler(cfg: SearchConfig):
    """ASHA on the per-epoch AP reports, or None for FIFO."""
    if cfg.scheduler.name != "asha":
        return None
    from ray.tune.schedulers import ASHAScheduler

    # iterations 1..epochs are the epoch reports; epochs + 1 is the final summary report
    return ASHAScheduler(
        time_attr="training_iteration",
        metric="ap",
        mode="max",
        max_t=cfg.proxy.epochs + 1,
        grace_period=cfg.scheduler.grace_period,
        reduction_factor=cfg.scheduler.reduction_factor,
    )


def trial_config(cfg: SearchConfig) -> dict:
    """What every trial receives besides its spec: proxy and data dicts, CPUs per trial, test hooks."""
    from nas.trainable import test_hooks_from_env

    return {
        "proxy": cfg.proxy.to_dict(),
        "data": cfg.data.to_dict(),
        "cpus_per_trial": cfg.cluster.cpus_per_trial,
        "test_hooks": test_hooks_from_env(),
    }


def make_tuner(cfg: SearchConfig, resuming: bool):
    """A new Tuner, or Ray's own restore of the run's experiment when resuming."""
    import ray
    from ray import tune

    from nas.searcher import ControllerSearcher, LiveTrials
    from nas.trainable import train_proxy

    storage, name = storage_location(cfg, sum(1 for n in ray.nodes() if n.get("Alive")))
    trainable = tune.with_resources(train_proxy, {"cpu": cfg.cluster.cpus_per_trial, "gpu": cfg.cluster.gpus_per_trial})
    path = f"{storage.rstrip('/')}/{name}"
    if resuming and tune.Tuner.can_restore(path):
        return tune.Tuner.restore(
            path, trainable=trainable, resume_unfinished=True, resume_errored=False, restart_errored=False
        )
    searcher = ControllerSearcher(cfg, trial_config(cfg))
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
        failure_config=tune.FailureConfig(max_failures=cfg.cluster.max_failures),
        callbacks=[LiveTrials(searcher), SearchProgress(cfg.db_path, cfg.trials)],
    )
    return tune.Tuner(trainable, tune_config=tune_config, run_config=run_config)


def write_best(cfg: SearchConfig) -> dict[str, str]:
    """Write the best trial's spec (JSON and TF Model Garden form) into the run folder."""
    with ResultsStore.open_readonly(cfg.db_path) as store:
        if store.summary()["best_trial"] is None:
            return {}
        spec = store.trial_spec("best")
    files = {
        "best spec": os.path.join(cfg.run_dir, "best_spec.json"),
        "TF export": os.path.join(cfg.run_dir, "best_spec_tf.txt"),
    }
    with open(files["best spec"], "w", encoding="utf-8") as handle:
        handle.write(spec_to_json(spec) + "\n")
    with open(files["TF export"], "w", encoding="utf-8") as handle:
        handle.write(to_tf_text(spec) + "\n")
    return files


def run_search(cfg: SearchConfig, resuming: bool = False) -> dict:
    """Run (or continue) a search to `cfg.trials` stored trials; prints progress and the closing report.

    Returns:
        the store's summary at the end.
    Raises:
        ConfigError / UserInputError: bad configuration, run folder or cluster storage.
    """
    if not cfg.is_replay:
        check_data(cfg)
    prepare_run(cfg, resuming)
    if cfg.is_replay:
        from nas.replay import run_replay

        run_replay(cfg)
    else:
        _run_tune(cfg, resuming)
    files = write_best(cfg)
    with ResultsStore.open_readonly(cfg.db_path) as store:
        summary, rows = store.summary(), store.leaderboard(limit=10)
    print(closing_text(cfg.run_dir, summary, rows, files), flush=True)
    return summary


def _run_tune(cfg: SearchConfig, resuming: bool) -> None:
    import ray

    os.environ.setdefault("RAY_AIR_NEW_OUTPUT", "0")  # our own progress lines replace Tune's tables
    started_here = init_ray(cfg)
    try:
        make_tuner(cfg, resuming).fit()
    finally:
        if started_here:
            ray.shutdown()
