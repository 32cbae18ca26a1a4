"""Typed configs of one proxy run: `ProxyConfig` (model, input, schedule, optimiser, seed),
`DataConfig` (which data set, its held-out split, the synthetic generator's parameters) and
`TaskConfig` (which task, which of its metrics is the reward, the task's own options).

Both are frozen dataclasses translated once from plain dicts (`from_dict`: Hydra group files
`nas/conf/proxy/*.yaml`, `nas/conf/data/*.yaml`, stored runs) and back (`to_dict`: JSON-able).
Unknown keys and impossible values raise `ConfigError` naming them.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field, fields

from proxy_trainer.data.synth import SCALES as SYNTH_SCALES
from proxy_trainer.evaluate import AREA_RANGES
from proxy_trainer.modeling.model_config import ModelConfig
from search_space.errors import UserInputError

SCHEDULES = ("cosine", "step")
DATA_KINDS = ("synthetic", "coco")
DEVICES = ("auto", "cpu", "cuda")
PRECISE_BN_EPOCHS = ("every", "last")  # evaluations that re-estimate BN statistics first
AUTO = "auto"  # a runtime setting left to the device (proxy_trainer/runtime.py resolves it)
AMP_MODES = (AUTO, "fp32", "bf16", "fp16")  # autocast of the training step; fp32 = none



class ConfigError(UserInputError):
    """A proxy or data config key or value is not usable."""


@dataclass(frozen=True)
class ProxyConfig:
    """One proxy task: the detector to build and how to train it."""

    tier: str = "custom"  # name of the tier file it came from (smoke, cpu, coco512), for records
    model: ModelConfig = field(default_factory=ModelConfig)  # backbone width/alpha, head, anchors
    image_size: int = 128  # square input side; images are letterboxed to it
    epochs: int = 5  # passes over the training split (the paper's proxy: 5)
    batch_size: int = 16  # images per SGD step
    lr: float = 0.08  # peak learning rate after warm-up
    momentum: float = 0.9  # SGD momentum (paper: 0.9)
    weight_decay: float = 4e-5  # L2 on all weights (paper: 4e-5)
    warmup: float = 0.1  # fraction of all steps with a linear LR ramp from warmup_factor * lr
    warmup_factor: float = 0.1  # LR multiplier at step 0
    schedule: str = "cosine"  # 'cosine' (to 0 at the end) or 'step' (x step_gamma at each milestone)
    step_milestones: tuple[float, ...] = (0.8,)  # step schedule: fractions of all steps
    step_gamma: float = 0.1  # step schedule: LR factor per milestone
    grad_clip: float = 10.0  # max global gradient norm; 0 turns clipping off
    hflip: bool = True  # random horizontal flips while training
    scale_jitter: float = 0.0  # training images rescaled by a factor in [1 - j, 1 + j], padded or
    # cropped back to image_size (boxes and masks with them); 0 = off (the paper's proxy: no jitter)
    score_threshold: float = 0.05  # detections kept for COCOeval above this score (torchvision's 0.05);
    # lower values let short proxy runs, whose scores are still near the 0.01 prior, be ranked
    precise_bn_batches: int = 0  # before each evaluation, re-estimate BN statistics on this many
    # training batches with the final weights (proxy_trainer/precise_bn.py); 0 = off
    precise_bn_epochs: str = "every"  # which evaluations get it: 'every' epoch's or the 'last' only
    # (the reward's; ~12 s per evaluation at 256 px on one thread, so a long tier pays it once)
    area_ranges: str = "absolute"  # APs/APm/APl ranges: 'absolute' = COCOeval's 32^2/96^2 pixels;
    # 'relative' = the same thresholds scaled from a 640-px side to the reward images' side
    seed: int = 0  # seeds weights, shuffling and flips
    num_threads: int = 0  # torch CPU threads; 0 leaves torch's default
    device: str = "auto"  # 'auto' (CUDA when present), 'cpu' or 'cuda'
    amp: str = AUTO  # autocast of the training step's forward and loss: 'auto' (bf16 on CUDA, none
    # on CPU), 'fp32' (none), 'bf16' (CUDA or CPU) or 'fp16' (CUDA only); evaluation runs in fp32
    channels_last: bool | str = AUTO  # model and input batches in channels_last: 'auto' (on CUDA), true, false

    def __post_init__(self) -> None:
        _check_positive(self, ("image_size", "epochs", "batch_size", "lr"), "proxy")
        _check_range(self, "warmup", 0.0, 1.0, "proxy")
        _check_range(self, "score_threshold", 0.0, 1.0, "proxy")
        if not 0.0 <= self.scale_jitter < 1.0:
            raise ConfigError(f"proxy.scale_jitter is {self.scale_jitter}; use a fraction in [0, 1), e.g. 0.2 (0 = off)")
        _check_choice(self, "schedule", SCHEDULES, "proxy")
        _check_choice(self, "device", DEVICES, "proxy")
        _check_choice(self, "area_ranges", AREA_RANGES, "proxy")
        _check_choice(self, "precise_bn_epochs", PRECISE_BN_EPOCHS, "proxy")
        _check_amp(self)
        _check_switch(self, "channels_last", "proxy")
        if self.grad_clip < 0 or self.weight_decay < 0 or self.num_threads < 0 or self.precise_bn_batches < 0:
            raise ConfigError(
                "proxy.grad_clip, proxy.weight_decay, proxy.num_threads and proxy.precise_bn_batches must be >= 0"
            )

    @classmethod
    def from_dict(cls, data: dict) -> ProxyConfig:
        """A config from a plain dict (missing keys keep defaults; `model` is a nested dict).

        Raises:
            ConfigError: unknown keys (named) or bad values. ModelConfigError: bad model keys.
        """
        data = dict(_mapping(data, "proxy"))
        if "model" in data:
            data["model"] = ModelConfig.from_dict(dict(_mapping(data["model"], "proxy.model")))
        return _build(cls, data, "proxy")

    def to_dict(self) -> dict:
        """Plain JSON-able dict (the model nested as a dict)."""
        return {**_plain(self), "model": self.model.to_dict()}


@dataclass(frozen=True)
class DataConfig:
    """Which data set trains the proxy and which images give the reward."""

    kind: str = "synthetic"  # 'synthetic' (bundled generator, cached) or 'coco' (files below)
    images: str | None = None  # coco: training images folder
    annotations: str | None = None  # coco: training annotation JSON
    val_images: str | None = None  # optional separate reward images (else carved from training)
    val_annotations: str | None = None  # their annotation JSON (give both or neither)
    heldout_images: int = 64  # size of the reward split carved from training (paper: 7392)
    split_seed: int = 0  # seed of that split
    synth_images: int = 300  # synthetic: number of images generated
    synth_size: int = 128  # synthetic: image side in pixels
    synth_seed: int = 0  # synthetic: generator seed (part of the cache key)
    synth_scales: str = "uniform"  # synthetic: object-size profile, 'uniform' or 'coco' (data/synth.py)
    cache_dir: str | None = None  # synthetic cache; None = $SPINENET_NAS_CACHE or ~/.cache/spinenet-nas
    cache_images: bool = True  # keep decoded images in memory (small sets; off for COCO)
    num_workers: int = 0  # DataLoader worker processes (0 = load in the training process)
    input_cache: bool | str = AUTO  # letterboxed copy on disk shared by trials (data/input_cache.py): true,
    # false or 'auto' (true for data=coco; false for the small synthetic sets, whose decoded images stay in memory)
    input_cache_dir: str | None = None  # its folder; None = <synthetic cache root>/inputs (node-local)
    pin_memory: bool | str = AUTO  # page-locked batches, copied to the GPU without blocking: 'auto'
    # (on CUDA), true (on CUDA: on a CPU there is nothing to copy to), false
    persistent_workers: bool | str = AUTO  # keep each loader's workers between epochs: 'auto' (when
    # num_workers > 0), true (the same: without workers there is nothing to keep), false

    def __post_init__(self) -> None:
        _check_choice(self, "kind", DATA_KINDS, "data")
        _check_choice(self, "synth_scales", SYNTH_SCALES, "data")
        _check_positive(self, ("heldout_images", "synth_images", "synth_size"), "data")
        if self.kind == "coco" and not (self.images and self.annotations):
            raise ConfigError("data=coco needs data.images=DIR and data.annotations=FILE")
        if (self.val_images is None) != (self.val_annotations is None):
            raise ConfigError("give both data.val_images and data.val_annotations, or neither")
        if self.num_workers < 0:
            raise ConfigError(f"data.num_workers is {self.num_workers}; it must be >= 0")
        _check_switch(self, "pin_memory", "data")
        _check_switch(self, "persistent_workers", "data")
        _check_switch(self, "input_cache", "data")

    @property
    def uses_input_cache(self) -> bool:
        """Whether trainings read pixels from the input cache (`input_cache`, 'auto' resolved)."""
        return self.input_cache is True or (self.input_cache == AUTO and self.kind == "coco")

    @classmethod
    def from_dict(cls, data: dict) -> DataConfig:
        """A config from a plain dict (missing keys keep defaults).

        Raises:
            ConfigError: unknown keys (named) or bad values.
        """
        return _build(cls, dict(_mapping(data, "data")), "data")

    def to_dict(self) -> dict:
        """Plain JSON-able dict."""
        return _plain(self)


@dataclass(frozen=True)
class TaskConfig:
    """The proxy task (`nas/conf/task/*.yaml`): a folder of `proxy_trainer/tasks/`, the metric the
    reward reads (one of the task's metric names), and options only that task reads."""

    name: str = "detection"  # detection | classification | instance (proxy_trainer/tasks/<name>/)
    reward_metric: str = "ap"  # the metric the reward, ASHA and the leaderboard read
    options: dict = field(default_factory=dict)  # the task's own settings (its runner checks them)

    def __post_init__(self) -> None:
        from proxy_trainer.tasks import task_metrics

        names = task_metrics(self.name).names
        if self.reward_metric not in names:
            raise ConfigError(f"task.reward_metric is {self.reward_metric!r}; task {self.name} measures "
                              f"{', '.join(names)}")

    @property
    def metrics(self):
        """The task's `TaskMetrics` (names, labels)."""
        from proxy_trainer.tasks import task_metrics

        return task_metrics(self.name)

    @classmethod
    def from_dict(cls, data: dict | None) -> TaskConfig:
        """A config from a plain dict; None or {} is the detection task (stores before tasks).

        Raises:
            ConfigError: unknown keys or task, or a reward metric the task does not measure.
        """
        data = dict(_mapping(data or {}, "task"))
        if "reward_metric" not in data and "name" in data:
            from proxy_trainer.tasks import task_metrics

            data["reward_metric"] = task_metrics(str(data["name"])).reward
        options = data.pop("options", None) or {}
        task = _build(cls, data, "task")
        return dataclasses.replace(task, options=dict(_mapping(options, "task.options")))

    def to_dict(self) -> dict:
        """Plain JSON-able dict."""
        return {"name": self.name, "reward_metric": self.reward_metric, "options": dict(self.options)}


def _mapping(data, section: str) -> dict:
    if not isinstance(data, dict):
        raise ConfigError(f"{section} config must be a mapping, got {type(data).__name__}")
    return data


def _coerce(section: str, name: str, value, default):
    """Check a value against its field's default type; ints widen to floats, lists to tuples."""
    if value is None:
        return value
    if default is None:  # the optional paths
        if not isinstance(value, str):
            raise ConfigError(f"{section}.{name} is {value!r}; it must be a path (text)")
        return value
    if isinstance(default, tuple):
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{section}.{name} is {value!r}; it must be a list")
        return tuple(_coerce(section, name, v, default[0]) for v in value) if default else tuple(value)
    if default == AUTO:  # 'auto' or a choice (device, amp) or a bool (switches): the field's check names them
        return value
    kind = type(default)
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
        raise ConfigError(f"{section}.{name} is {value!r}; it must be a {kind.__name__}")
    return value


def _default(f: dataclasses.Field):
    return f.default_factory() if f.default is dataclasses.MISSING else f.default


def _build(cls, data: dict, section: str):
    known = {f.name: f for f in fields(cls)}
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise ConfigError(f"unknown {section} config keys: {', '.join(unknown)}; known: {', '.join(known)}")
    values = {k: v if k in ("model", "options") else _coerce(section, k, v, _default(known[k]))
              for k, v in data.items()}
    return cls(**values)


def _plain(config) -> dict:
    return {f.name: list(v) if isinstance(v := getattr(config, f.name), tuple) else v for f in fields(config)}


def _check_positive(config, names: tuple[str, ...], section: str) -> None:
    for name in names:
        if not getattr(config, name) > 0:
            raise ConfigError(f"{section}.{name} is {getattr(config, name)!r}; it must be > 0")


def _check_range(config, name: str, low: float, high: float, section: str) -> None:
    if not low <= getattr(config, name) < high:
        raise ConfigError(f"{section}.{name} is {getattr(config, name)!r}; it must be in [{low}, {high})")


def _check_choice(config, name: str, choices: tuple[str, ...], section: str) -> None:
    if getattr(config, name) not in choices:
        raise ConfigError(f"{section}.{name} is {getattr(config, name)!r}; use one of {', '.join(choices)}")


def _check_switch(config, name: str, section: str) -> None:
    """'auto', true or false (bools as bools: YAML's and Hydra's true/false, never 1 or 'yes')."""
    value = getattr(config, name)
    if not (value == AUTO or isinstance(value, bool)):
        raise ConfigError(f"{section}.{name} is {value!r}; use one of auto, true, false")


def _check_amp(config: ProxyConfig) -> None:
    if config.amp is False:  # YAML and OmegaConf read a bare `off` as false
        raise ConfigError(f"proxy.amp is False; use one of {', '.join(AMP_MODES)} (fp32 for no autocast)")
    _check_choice(config, "amp", AMP_MODES, "proxy")
    if config.amp == "fp16" and config.device == "cpu":
        raise ConfigError("proxy.amp is fp16 but proxy.device is cpu; fp16 autocast needs CUDA: use bf16 or fp32")
