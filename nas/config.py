"""The configuration: Hydra composition of the packaged tree `nas/conf/`, translated once into
typed frozen dataclasses. Nothing outside this module sees a `DictConfig`.

`compose_config(overrides, file=SEARCH_FILE)` is the one composition: it gives the resolved plain
dict of `config.yaml` (`nas search`, `nas retrain`, the benchmarks; what the results store keeps)
or of `train.yaml` (`nas train`, `nas data check`). `proxy_and_data(plain)` is the one builder of
the (`ProxyConfig`, `DataConfig`) pair from such a dict, and `load_proxy_and_data(overrides,
file)` composes and builds in one call. `SearchConfig.from_dict(plain)` turns a dict (fresh or
read back from a store on resume) into typed settings; `load_search_config(overrides)` does both,
and for `resume=<run dir>` reads the stored config instead of composing a new one.
"""

from __future__ import annotations

import datetime
import math
import os
from dataclasses import dataclass, field, fields
from typing import Any

from controller.reward import RewardRule
from nas.run_folder import RunFolder
from search_space.errors import UserInputError

CONF_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "conf")
GROUPS = ("controller", "proxy", "data", "space", "cluster", "scheduler", "task", "predictor")
REPLAY_TIER = "replay"


class ConfigError(UserInputError):
    """A search configuration that cannot be composed or used."""


def group_options(group: str) -> list[str]:
    """The option names of a config group (its yaml files), sorted."""
    folder = os.path.join(CONF_DIR, group)
    return sorted(f[: -len(".yaml")] for f in os.listdir(folder) if f.endswith(".yaml"))


def _register_resolvers() -> None:
    from omegaconf import OmegaConf

    if not OmegaConf.has_resolver("now"):  # Hydra registers it only inside @hydra.main apps
        OmegaConf.register_new_resolver("now", lambda fmt: datetime.datetime.now().strftime(fmt), use_cache=True)


@dataclass(frozen=True)
class ConfigFile:
    """A top-level file of `nas/conf/`: its name, its groups, and how a bad override reads."""

    name: str  # the yaml file, without .yaml
    groups: tuple[str, ...]  # the groups its overrides may choose
    lead: str  # how the one-line error of a bad override starts
    hint: str = ""  # added after the groups in that error


SEARCH_FILE = ConfigFile("config", GROUPS, "bad config override", "; see 'nas search --help'")
TRAIN_FILE = ConfigFile("train", ("proxy", "data", "task"), "bad override")  # nas train, nas data check


def compose_config(overrides: list[str] | tuple[str, ...] = (), file: ConfigFile = SEARCH_FILE) -> dict:
    """Compose `nas/conf/<file>.yaml` with Hydra overrides into a resolved plain dict.

    Raises:
        ConfigError: unknown group option, unknown key or a malformed override (one line).
    """
    from hydra import compose, initialize_config_dir
    from hydra.errors import HydraException
    from omegaconf import OmegaConf
    from omegaconf.errors import OmegaConfBaseException

    _register_resolvers()
    try:
        with initialize_config_dir(config_dir=CONF_DIR, version_base=None, job_name="nas"):
            cfg = compose(config_name=file.name, overrides=list(overrides))
        return OmegaConf.to_container(cfg, resolve=True)
    except (HydraException, OmegaConfBaseException) as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise ConfigError(f"{file.lead}: {first} (groups: {', '.join(file.groups)}{file.hint})") from None


def proxy_and_data(plain: dict, replay: bool = False):
    """The (ProxyConfig, DataConfig) pair of a resolved config: the one builder that `nas search`,
    `nas train`, `nas retrain` and the benchmarks use. The replay tier trains nothing: it gives
    (None, None) where `replay` is allowed (a search), and is refused elsewhere.

    Raises:
        ConfigError: the replay tier where a training is wanted. proxy_trainer's ConfigError: bad values.
    """
    if plain["proxy"].get("tier") == REPLAY_TIER:
        if replay:
            return None, None
        raise ConfigError("the proxy tier is replay, which trains nothing (it reuses a finished run's rewards); "
                          "give a proxy tier to train with, e.g. proxy=cpu")
    from proxy_trainer.config import DataConfig, ProxyConfig

    return ProxyConfig.from_dict(plain["proxy"]), DataConfig.from_dict(plain["data"])


def task_config(plain: dict):
    """The `TaskConfig` of a resolved config (a config stored before tasks existed: detection).

    Raises:
        UserInputError: an unknown task, key or reward metric (one line).
    """
    from proxy_trainer.config import TaskConfig

    return TaskConfig.from_dict(plain.get("task"))


def load_proxy_and_data(overrides: list[str] | tuple[str, ...] = (), file: ConfigFile = SEARCH_FILE):
    """`proxy_and_data` of a fresh composition of `file` with `overrides`.

    Raises:
        ConfigError: bad overrides, bad values, or the replay tier.
    """
    return proxy_and_data(compose_config(overrides, file))


@dataclass(frozen=True)
class ControllerSettings:
    name: str  # registered controller name (controller.build_controller)
    options: dict = field(default_factory=dict)  # keyword options for build_controller


@dataclass(frozen=True)
class SpaceSettings:
    seed: str  # seed network name for SearchSpace.from_seed
    overrides: dict = field(default_factory=dict)  # SpaceOptions overrides
    dead_blocks: str = "allow"  # allow | forbid (stores written before this key mean allow)

    def build(self):
        """The SearchSpace these settings describe."""
        from search_space.space import SearchSpace

        return SearchSpace.from_seed(self.seed, **{"dead_blocks": self.dead_blocks, **self.overrides})


@dataclass(frozen=True)
class ClusterSettings:
    kind: str  # local | ray
    address: str | None  # Ray address to connect to (cluster=ray)
    num_cpus: int | None  # CPUs for a local Ray (None = detect)
    num_gpus: int | None  # GPUs for a local Ray (None = detect)
    cpus_per_trial: float  # CPUs per trial; torch threads follow it
    gpus_per_trial: float  # GPUs per trial, fractions allowed
    storage: str | None  # Ray Tune storage path/URI (None = <run dir>/ray)
    max_failures: int  # Ray retries for dead workers/nodes


@dataclass(frozen=True)
class SchedulerSettings:
    name: str  # fifo | asha
    grace_period: int  # ASHA: epochs before a trial may be stopped
    reduction_factor: int  # ASHA: keep 1/reduction_factor per rung


@dataclass(frozen=True)
class ReplaySettings:
    source: str | None  # run folder whose rewards answer proposals (proxy=replay)
    fallback: str  # what answers an unrecorded proposal: 'nearest'


@dataclass(frozen=True)
class SearchConfig:
    """Everything one search needs, typed. `plain` is the resolved dict the store keeps."""

    trials: int  # completed trials wanted
    concurrency: int  # trials at once
    seed: int  # controller seed
    checkpoint_every: int  # controller checkpoint period in rewards
    run_name: str  # the run's name
    run_dir: str  # absolute run folder
    controller: ControllerSettings
    space: SpaceSettings
    cluster: ClusterSettings
    scheduler: SchedulerSettings
    reward: RewardRule  # what a trial result is worth (controller.reward)
    replay: ReplaySettings
    proxy: Any  # proxy_trainer.config.ProxyConfig, or None in replay mode
    data: Any  # proxy_trainer.config.DataConfig, or None in replay mode
    task: Any  # proxy_trainer.config.TaskConfig: the task and its reward metric
    predictor: Any = None  # controller.screen.ScreenConfig of a predictor screen, or None (train every proposal)
    plain: dict = field(repr=False, default_factory=dict)

    @property
    def is_replay(self) -> bool:
        return self.proxy is None

    @property
    def db_path(self) -> str:
        return RunFolder(self.run_dir).store

    @classmethod
    def from_dict(cls, plain: dict) -> SearchConfig:
        """Typed settings from a resolved plain config dict.

        Raises:
            ConfigError: a missing/invalid value (named), or replay without replay.from.
        """
        try:
            return cls._from_dict(plain)
        except KeyError as err:
            raise ConfigError(f"bad search config: the key {err} is missing (see 'nas search --help')") from None
        except (TypeError, ValueError) as err:
            if isinstance(err, UserInputError):
                raise
            raise ConfigError(f"bad search config: {type(err).__name__}: {err}") from None

    @classmethod
    def _from_dict(cls, plain: dict) -> SearchConfig:
        proxy, data = proxy_and_data(plain, replay=True)
        replay = ReplaySettings(source=plain["replay"]["from"], fallback=plain["replay"]["fallback"])
        if proxy is None and not replay.source:
            raise ConfigError("proxy=replay needs replay.from=<run dir> (a finished run whose rewards to replay)")
        known_keys(plain, "reward", RewardRule)
        cfg = cls(
            trials=integer(plain, "trials", minimum=1),
            concurrency=integer(plain, "concurrency", minimum=1),
            seed=integer(plain, "seed"),
            checkpoint_every=integer(plain, "checkpoint_every", minimum=1),
            run_name=str(plain["run"]["name"]),
            run_dir=os.path.abspath(plain["run"]["dir"]),
            controller=ControllerSettings(**plain["controller"]),
            space=SpaceSettings(**known_keys(plain, "space", SpaceSettings)),
            cluster=_cluster_settings(plain),
            scheduler=SchedulerSettings(
                name=str(known_keys(plain, "scheduler", SchedulerSettings)["name"]),
                grace_period=integer(plain, "scheduler.grace_period", minimum=1),
                reduction_factor=integer(plain, "scheduler.reduction_factor", minimum=2),
            ),
            reward=RewardRule(
                failed_penalty=number(plain, "reward.failed_penalty"),
                target_flops=number(plain, "reward.target_flops", optional=True, positive=True),
                flops_weight=number(plain, "reward.flops_weight"),
                hard=boolean(plain, "reward.hard", default=False),  # stores before this key: False
            ),
            replay=replay,
            proxy=proxy,
            data=data,
            task=task_config(plain),
            predictor=_predictor_settings(plain),
            plain=plain,
        )
        _check(cfg)
        return cfg


def _value(plain: dict, key: str) -> Any:
    """The value at dotted `key` of the plain config."""
    value = plain
    for part in key.split("."):
        value = value[part]
    return value


def integer(plain: dict, key: str, minimum: int | None = None, optional: bool = False) -> int | None:
    """The whole number at dotted `key` (an integral float such as 4.0 counts; booleans do not).

    Raises:
        ConfigError: not a whole number, or below `minimum` (the message names the key).
    """
    value = _value(plain, key)
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not float(value).is_integer():
        raise ConfigError(f"{key}={value!r}: must be a whole number")
    if minimum is not None and value < minimum:
        raise ConfigError(f"{key}={value!r}: must be at least {minimum}")
    return int(value)


def number(plain: dict, key: str, optional: bool = False, positive: bool = False, minimum: float | None = None):
    """The finite number at dotted `key` (None allowed when `optional`).

    Raises:
        ConfigError: not a finite number, not positive when asked, or below `minimum` (key named).
    """
    value = _value(plain, key)
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ConfigError(f"{key}={value!r}: must be a finite number")
    if positive and value <= 0:
        raise ConfigError(f"{key}={value!r}: must be greater than 0")
    if minimum is not None and value < minimum:
        raise ConfigError(f"{key}={value!r}: must be at least {minimum}")
    return float(value)


def boolean(plain: dict, key: str, default: bool | None = None) -> bool:
    """The true/false value at dotted `key` (`default` where the key is absent).

    Raises:
        ConfigError: not a boolean (the message names the key).
    """
    try:
        value = _value(plain, key)
    except KeyError:
        if default is None:
            raise
        return default
    if not isinstance(value, bool):
        raise ConfigError(f"{key}={value!r}: must be true or false")
    return value


def known_keys(plain: dict, section: str, settings: type) -> dict:
    """The config section `section`, refused if it holds a key `settings` (a dataclass) lacks.

    Raises:
        ConfigError: an unknown key (a typo such as cluster.gpu_per_trial), with the known ones.
    """
    known = [f.name for f in fields(settings)]
    unknown = sorted(set(plain[section]) - set(known))
    if unknown:
        raise ConfigError(f"unknown key {section}.{unknown[0]}; known: {', '.join(known)}")
    return plain[section]


def _cluster_settings(plain: dict) -> ClusterSettings:
    """Cluster settings with every resource number checked (Ray would fail deep inside otherwise)."""
    section = known_keys(plain, "cluster", ClusterSettings)
    cpus = number(plain, "cluster.cpus_per_trial", positive=True)
    gpus = number(plain, "cluster.gpus_per_trial", minimum=0)
    for key, amount in (("cpus_per_trial", cpus), ("gpus_per_trial", gpus)):
        if amount > 1 and not amount.is_integer():
            raise ConfigError(f"cluster.{key}={amount}: Ray accepts fractions only below 1 (e.g. 0.5) or whole numbers")
    return ClusterSettings(
        kind=str(section["kind"]),
        address=None if section["address"] is None else str(section["address"]),
        num_cpus=integer(plain, "cluster.num_cpus", minimum=1, optional=True),
        num_gpus=integer(plain, "cluster.num_gpus", minimum=0, optional=True),
        cpus_per_trial=cpus,
        gpus_per_trial=gpus,
        storage=None if section["storage"] is None else str(section["storage"]),
        max_failures=integer(plain, "cluster.max_failures", minimum=0),
    )


def _predictor_settings(plain: dict):
    """The predictor screen's config, or None for `predictor=none` and stores from before the key.

    Raises:
        ConfigError: an unknown predictor option or a bad value (naming it and the fix).
    """
    options = dict(plain.get("predictor") or {})
    if options.get("kind") is None:
        return None
    from controller.base import ControllerError
    from controller.screen import screen_config

    try:
        return screen_config(options)
    except (ControllerError, TypeError) as err:
        raise ConfigError(f"predictor: {err} (e.g. predictor=forest predictor.candidates=8)") from None


def _check(cfg: SearchConfig) -> None:
    if cfg.scheduler.name not in ("fifo", "asha"):
        raise ConfigError(f"unknown scheduler '{cfg.scheduler.name}'; known: fifo, asha")
    if cfg.cluster.kind not in ("local", "ray"):
        raise ConfigError(f"unknown cluster kind '{cfg.cluster.kind}'; known: local, ray")
    if cfg.replay.fallback != "nearest":
        raise ConfigError(f"unknown replay.fallback '{cfg.replay.fallback}'; known: nearest")


def resume_overrides(overrides: list[str]) -> tuple[str | None, list[str]]:
    """Split `resume=<dir>` out of the overrides: (run dir or None, the other overrides)."""
    rest = [o for o in overrides if not o.startswith("resume=")]
    found = [o.split("=", 1)[1] for o in overrides if o.startswith("resume=")]
    return (found[-1] if found and found[-1] not in ("", "null") else None), rest


def stored_config(run_dir: str) -> dict:
    """The resolved config stored in `run_dir`'s results store, with run.dir pointing at run_dir.

    Raises:
        ConfigError: the folder has no store or the store has no config.
    """
    from nas.store import ResultsStore

    db = RunFolder(run_dir).store
    if not os.path.isfile(db):
        raise ConfigError(
            f"cannot resume {run_dir}: no {RunFolder.STORE_FILE} there; give the folder of an earlier search"
        )
    plain = {}
    if not ResultsStore.is_blank(db):
        with ResultsStore.open_readonly(db) as store:
            store.check_integrity()
            plain = store.config()
    if not plain:
        raise ConfigError(
            f"cannot resume {run_dir}: its search stopped before recording its config (nothing was trained); "
            "start it again with the same overrides, without resume="
        )
    plain["run"]["dir"] = os.path.abspath(run_dir)
    return plain


def load_search_config(overrides: list[str]) -> tuple[SearchConfig, bool]:
    """Typed config from CLI overrides; returns (config, resuming).

    With `resume=<dir>` the config stored in that run is used unchanged.

    Raises:
        ConfigError: bad overrides, or other overrides given together with resume.
    """
    run_dir, rest = resume_overrides(overrides)
    if run_dir is None:
        return SearchConfig.from_dict(compose_config(rest)), False
    if rest:
        raise ConfigError(f"{' '.join(rest)}: a resumed run keeps its stored config; give only resume=<run dir>")
    return SearchConfig.from_dict(stored_config(run_dir)), True
