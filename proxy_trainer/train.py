"""`train_and_evaluate`: one proxy run of a task — build its model, train it from scratch on the
training split, score it on the held-out split after every epoch (detection: COCO box AP;
classification: top-1). What differs between tasks comes from the task's `TaskRunner`
(`proxy_trainer/tasks/`); the loop, the schedule and precise BN are shared.

SGD with momentum and weight decay, linear warm-up then cosine or step decay (`schedule.py`),
gradient-norm clipping. Autocast, channels_last, pinned memory and loader workers are the tier's
runtime settings (`runtime.py`; by default bf16 autocast and channels_last on CUDA only). On CPU
with the defaults a run is seeded and deterministic (same seed, same threads -> same losses and
AP). A NaN/inf loss ends the run with status "nan_loss" and the reason, never an exception to the
caller.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable
from typing import NamedTuple

import torch
from pycocotools.coco import COCO
from torch.utils.data import DataLoader

from proxy_trainer.config import DataConfig, ProxyConfig, TaskConfig
from proxy_trainer.data.images import collate, scale_jitter_batch
from proxy_trainer.data.input_cache import split_caches
from proxy_trainer.data.prepare import PreparedData, prepare_data
from proxy_trainer.evaluate import coco_metrics, ground_truth, predict
from proxy_trainer.precise_bn import recompute_bn_statistics
from proxy_trainer.runtime import OrderKeepingLoader, RuntimeSettings
from proxy_trainer.schedule import lr_factor
from proxy_trainer.tasks import task_runner
from proxy_trainer.tasks.base import TaskRunner
from search_space.spec import ArchSpec
from search_space.trial_result import EpochReport, TrialResult, TrialStatus

Report = Callable[[EpochReport], None]
Progress = Callable[[int, int], None]


class Loaders(NamedTuple):
    """A run's data: shuffled training batches, the reward set in order, and shuffled training
    batches (own generator, no flips) for precise BN."""

    train: DataLoader
    val: DataLoader
    statistics: DataLoader


Evaluator = Callable[[torch.nn.Module, "Loaders", PreparedData, int], dict]  # (model, loaders, data, epoch)


class NonFiniteLoss(Exception):
    """Training produced a NaN or infinite loss (carried to the result as status nan_loss)."""


def resolve_device(name: str) -> torch.device:
    """'auto' -> CUDA when available else CPU; 'cpu'/'cuda' as given."""
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    return torch.device(name)


@contextlib.contextmanager
def torch_threads(count: int):
    """Use `count` torch CPU threads inside the block (0: leave as is), then restore."""
    before = torch.get_num_threads()
    if count:
        torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def make_loaders(data: PreparedData, cfg: ProxyConfig, data_cfg: DataConfig, device: torch.device,
                 runner: TaskRunner | None = None, runtime: RuntimeSettings | None = None) -> Loaders:
    """The training, reward and BN-statistics loaders of one run (each seeded from `cfg.seed`),
    of the task's datasets (`runner`; None: detection), with the runtime's workers and pinning
    (`runtime`; None: resolved from the configs and `device`)."""
    runner = runner or task_runner()
    runtime = runtime or RuntimeSettings.resolve(cfg, data_cfg, device)
    common = {"collate_fn": collate, **runtime.loader_options()}
    train_inputs, val_inputs = split_caches(data, cfg.image_size, data_cfg)  # (None, None) when off
    train = runner.dataset(data.train, cfg.image_size, data_cfg.cache_images, train_inputs)
    val = runner.dataset(data.val, cfg.image_size, data_cfg.cache_images, val_inputs)
    for dataset in (train, val):  # workers hand over uint8 images, a quarter of float's bytes
        dataset.deliver_uint8 = common.get("num_workers", 0) > 0
    shuffle = torch.Generator().manual_seed(cfg.seed)
    statistics = torch.Generator().manual_seed(cfg.seed + 2)
    return Loaders(
        OrderKeepingLoader(train, batch_size=cfg.batch_size, shuffle=True, drop_last=len(train) > cfg.batch_size,
                           generator=shuffle, **common),
        OrderKeepingLoader(val, batch_size=cfg.batch_size, shuffle=False, **common),
        OrderKeepingLoader(train, batch_size=cfg.batch_size, shuffle=True, generator=statistics, **common),
    )


def _optimizer(model: torch.nn.Module, cfg: ProxyConfig, total_steps: int):
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.SGD(params, lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay)
    factor = lambda step: lr_factor(step, total_steps, warmup=cfg.warmup, warmup_factor=cfg.warmup_factor,
                                    schedule=cfg.schedule, milestones=cfg.step_milestones, gamma=cfg.step_gamma)
    return optimizer, torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


class _Stepper:
    """One SGD step: the task's loss (in the runtime's autocast), loss check, backward, clip."""

    def __init__(self, model, optimizer, scheduler, cfg: ProxyConfig, runtime: RuntimeSettings, task) -> None:
        self.model, self.optimizer, self.scheduler, self.cfg, self.runtime = model, optimizer, scheduler, cfg, runtime
        self.runner, self.options = task  # the TaskRunner and its typed options
        self.flips = torch.Generator().manual_seed(cfg.seed + 1)
        self.jitter = torch.Generator().manual_seed(cfg.seed + 3)  # (+2 seeds the BN-statistics loader)

    def __call__(self, images, targets, where: str) -> float:
        if self.cfg.hflip:
            images, targets = self.runner.flip(images, targets, self.flips)
        if self.cfg.scale_jitter:
            images, targets = scale_jitter_batch(images, targets, self.jitter, self.cfg.scale_jitter)
        to_device = self.runtime.to_device
        images = [to_device(img) for img in images]
        targets = [{k: to_device(v) for k, v in t.items()} for t in targets]
        with self.runtime.autocast():
            loss = self.runner.loss(self.model, images, targets, self.options)
        value = float(loss.detach())
        if not math.isfinite(value):
            raise NonFiniteLoss(f"loss is {value} at {where}; lower proxy.lr or keep proxy.grad_clip > 0")
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if self.cfg.grad_clip:
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.cfg.grad_clip)
        self.optimizer.step()
        self.scheduler.step()
        return value


def _train_epoch(stepper: _Stepper, loader, epoch: int, counter: dict, progress: Progress | None) -> float:
    stepper.model.train()
    total = 0.0
    for index, (images, targets, _) in enumerate(loader):
        total += stepper(images, targets, f"epoch {epoch} step {index + 1}")
        counter["steps"] += 1
        counter["images"] += len(images)
        if progress is not None:
            progress(counter["steps"], counter["total"])
    return total / max(1, len(loader))


def _result(status: TrialStatus, error: str | None, metrics: dict, run: dict, task: TaskConfig) -> TrialResult:
    seconds = run["train_seconds"]
    return TrialResult(status, error, metrics={k: metrics.get(k) for k in task.metrics.names},
                       reward_metric=task.reward_metric, params=run["params"],
                       flops=run["flops"], train_seconds=round(seconds, 3),
                       images_per_second=round(run["images"] / seconds, 3) if seconds > 0 else 0.0,
                       epochs_done=run["epochs_done"], loss=run["loss"], data=run["data"], epochs=tuple(run["epochs"]))


class TaskParts(NamedTuple):
    """A run's task config with its runner and typed options, looked up and checked once."""

    config: TaskConfig
    runner: TaskRunner
    options: object

    @classmethod
    def of(cls, task: TaskConfig | None) -> TaskParts:
        """The parts of `task` (None: detection). Raises TaskOptionsError for bad options."""
        task = task or TaskConfig()
        runner = task_runner(task.name)
        return cls(task, runner, runner.options(task.options))


def prepare_model(spec, cfg: ProxyConfig, num_classes: int, device: torch.device,
                  task: TaskConfig | TaskParts | None = None, runtime: RuntimeSettings | None = None) -> torch.nn.Module:
    """The seeded, untrained model of a run's task (None: the detector, with the tier's score
    threshold), on its device and in the runtime's memory format (`runtime`; None: resolved from
    `cfg` and `device`)."""
    parts = task if isinstance(task, TaskParts) else TaskParts.of(task)
    runtime = runtime or RuntimeSettings.resolve(cfg, None, device)
    torch.manual_seed(cfg.seed)
    return runtime.prepare_model(parts.runner.build_model(spec, cfg, num_classes, parts.options))


def train_and_evaluate(spec: ArchSpec | None, proxy_cfg: ProxyConfig, data_cfg: DataConfig,
                       report: Report | None = None, *, progress: Progress | None = None,
                       evaluator: Evaluator | None = None, task: TaskConfig | None = None) -> TrialResult:
    """Train one proxy model of a task and score it on the held-out split.

    Args:
        spec: the backbone; None trains the ResNet-FPN baseline `r50-fpn` at the same width.
        proxy_cfg: the tier (model, input size, schedule, seed). data_cfg: the data set.
        task: the task and its reward metric; None: detection, reward AP.
        report: called after each epoch with its `EpochReport` (epoch, loss, the task's metrics).
        progress: called after each step with (steps done, total steps).
        evaluator: scores the model after each epoch instead of `evaluate_model`, as
            `evaluator(model, loaders, data, epoch) -> metrics` (studies that score more ways).
    Returns:
        the `TrialResult`: status ok or nan_loss (with the reason), the task's metrics (detection:
        `ap, ap50, ap75, aps, apm, apl`, None where COCOeval has no ground truth; classification:
        `top1, top5`) and its reward metric's name, params, flops (multiply-adds),
        timings, epochs done, the last loss, the data counts of `PreparedData.summary` and the
        per-epoch reports.
    Raises:
        UserInputError: bad data (`DataError`) or a spec/config the detector cannot build.
    """
    parts = TaskParts.of(task)  # bad options and runtime settings refused before any data is made
    runtime = RuntimeSettings.resolve(proxy_cfg, data_cfg, resolve_device(proxy_cfg.device))
    data = prepare_data(data_cfg, masks=parts.runner.needs_masks)
    parts.runner.check_data(data)
    with torch_threads(proxy_cfg.num_threads):
        return _run(spec, proxy_cfg, data_cfg, data, runtime, (report, progress, evaluator), parts)


def evaluate_model(model: torch.nn.Module, loaders: Loaders, data: PreparedData, cfg: ProxyConfig,
                   device: torch.device, gt: COCO | None = None, last: bool = True) -> dict:
    """COCO AP of a trained detector on the reward set (`gt`: its index, built when not given),
    after precise BN when the config asks for it at this evaluation (`last`: after the last epoch)."""
    if precise_bn_due(cfg, last):
        recompute_bn_statistics(model, loaders.statistics, cfg.precise_bn_batches, device)
    gt = ground_truth(data.val) if gt is None else gt
    return coco_metrics(gt, predict(model, loaders.val, data.val, device), cfg.area_ranges)


def precise_bn_due(cfg: ProxyConfig, last: bool) -> bool:
    """Whether this evaluation re-estimates BN statistics first (`last`: the reward's)."""
    return last or cfg.precise_bn_epochs == "every"


def _run(spec, cfg: ProxyConfig, data_cfg: DataConfig, data: PreparedData, runtime: RuntimeSettings, hooks,
         parts: TaskParts) -> TrialResult:
    report, progress, evaluator = hooks
    task, runner, options = parts
    device = runtime.device
    if evaluator is None:
        evaluate = runner.evaluator(data, cfg, device)
        evaluator = lambda model, loaders, data, epoch: evaluate(model, loaders, epoch)
    num_classes = data.train.num_classes
    params, flops = runner.count(spec, cfg, num_classes, options)
    model = prepare_model(spec, cfg, num_classes, device, parts, runtime)
    loaders = make_loaders(data, cfg, data_cfg, device, runner, runtime)
    counter = {"steps": 0, "images": 0, "total": cfg.epochs * len(loaders.train)}
    stepper = _Stepper(model, *_optimizer(model, cfg, counter["total"]), cfg, runtime, (runner, options))
    run = {"params": params, "flops": flops, "train_seconds": 0.0, "images": 0, "epochs_done": 0, "loss": None,
           "data": data.summary(), "epochs": []}
    metrics: dict = {}
    for epoch in range(1, cfg.epochs + 1):
        start = time.perf_counter()
        try:
            run["loss"] = round(_train_epoch(stepper, loaders.train, epoch, counter, progress), 6)
        except NonFiniteLoss as err:
            return _result(TrialStatus.NAN_LOSS, str(err), {}, {**run, "images": counter["images"]}, task)
        finally:
            run["train_seconds"] += time.perf_counter() - start
        metrics = evaluator(model, loaders, data, epoch)
        run.update(epochs_done=epoch, images=counter["images"])
        run["epochs"].append(EpochReport(epoch, run["loss"], metrics))
        if report is not None:
            report(run["epochs"][-1])
    return _result(TrialStatus.OK, None, metrics, run, task)
