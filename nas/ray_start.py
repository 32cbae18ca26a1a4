"""Starting or joining Ray for a search, safe by default, and where Ray Tune keeps its files.

A local search (`cluster=local`) starts a single-machine Ray whose every process (GCS, raylet,
runtime-env agent, the driver's and the trial workers' gRPC servers) listens on 127.0.0.1 only.
The lever is Ray's own single-machine mode: with `RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0` Ray
takes the loopback address as the node address (what it does by default on macOS and Windows),
and its servers bind to the node address. Ray reads the switch once, when it is imported, so it
is set both in the environment (for the processes Ray starts) and on Ray's constants module (for
this one). `tests/nas/test_search_lifecycle.py` checks the result with `ss`: a future Ray that changes
this fails that test instead of silently listening on the network again.

Nothing here touches Ray's token authentication: it stays as Ray ships it, on by default in the
pinned Ray 2.60 (a token generated into `~/.ray/auth_token` and required by every connection),
and only the user's own RAY_AUTH_MODE setting can change that. `cluster=ray` joins an existing
cluster whose network and token are the operator's (README, "Existing Ray cluster").
"""

from __future__ import annotations

import os

from nas.config import ConfigError, SearchConfig
from nas.run_folder import RunFolder

LOOPBACK_SWITCH = "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"  # Ray's switch: "0" = single-machine Ray on 127.0.0.1


def loopback_only() -> None:
    """Make the Ray started next in this process take 127.0.0.1 as its node address."""
    os.environ[LOOPBACK_SWITCH] = "0"
    from ray._private import ray_constants

    ray_constants.ENABLE_RAY_CLUSTER = False  # read once at import time; the same switch for this process


def init_ray(cfg: SearchConfig) -> bool:
    """Start (local, loopback only) or join (cluster) Ray unless it is up already; True if started here."""
    import ray

    if ray.is_initialized():
        return False
    os.environ.setdefault("RAY_CHDIR_TO_TRIAL_DIR", "0")  # trials keep the launch directory (relative data paths)
    if cfg.cluster.kind == "local":
        loopback_only()
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
    return cfg.run_dir, RunFolder.RAY_DIR
