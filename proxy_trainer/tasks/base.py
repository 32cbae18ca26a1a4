"""`TaskRunner`: what the training loop (`proxy_trainer/train.py`) asks of a task.

The loop is the same for every task: seeded model, SGD with the tier's schedule, an evaluation
after every epoch, precise BN before the reward's. A task supplies the parts that differ: its
options, whether its data needs masks, a check of its data, the dataset of a split, the model, its size and cost, the training
loss of a batch, the flip augmentation, a forward pass for re-estimating BN statistics, and the
evaluation that gives its metrics (`METRICS.names`). Batches are `collate`d lists: (images,
targets, metas), images float [3, S, S] in [0, 1].
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import fields

import torch
from torch import nn

from search_space.errors import UserInputError
from search_space.trial_result import TaskMetrics

Evaluate = Callable[[nn.Module, object, int], dict]  # (model, loaders, epoch) -> metrics


class TaskOptionsError(UserInputError):
    """A task option (`task.options.*`) is unknown or has a bad value."""


def typed_options(task: str, options_class: type, raw: Mapping):
    """`raw` task options as the task's frozen dataclass of options, unknown keys refused.

    Raises:
        TaskOptionsError: an unknown key (named, with the known ones).
    """
    known = [f.name for f in fields(options_class)]
    unknown = sorted(set(raw) - set(known))
    if unknown:
        raise TaskOptionsError(f"unknown task.options key {unknown[0]}; the {task} task knows {', '.join(known)}")
    return options_class(**raw)


class TaskRunner:
    """The interface; `proxy_trainer/tasks/<name>/runner.py` defines `RUNNER`, an instance."""

    metrics: TaskMetrics
    needs_masks: bool = False  # load every object's mask with the data (`prepare_data(..., masks=True)`)

    def options(self, raw: Mapping) -> object:
        """The task's typed options from `task.options` (none by default).

        Raises:
            TaskOptionsError: an unknown key or a bad value.
        """
        if raw:
            raise TaskOptionsError(f"task {self.metrics.task} takes no options; remove task.options ({', '.join(raw)})")
        return None

    def check_data(self, data) -> None:
        """Refuse data the task cannot use (a `DataError` of one line); nothing to check by default."""

    def dataset(self, split, image_size: int, cache: bool, inputs=None) -> torch.utils.data.Dataset:
        """A split (`DataSet`) as (image, target, meta) items at `image_size`; pixels from `inputs`
        (the split's `InputCache`) when given, else decoded (and kept in memory with `cache`)."""
        raise NotImplementedError

    def build_model(self, spec, cfg, num_classes: int, options) -> nn.Module:
        """The untrained model of a spec (None: the ResNet-FPN baseline) for a `ProxyConfig`."""
        raise NotImplementedError

    def count(self, spec, cfg, num_classes: int, options) -> tuple[int, int]:
        """(params, multiply-adds at batch 1) of that model at the tier's input size."""
        raise NotImplementedError

    def flip(self, images: list, targets: list, generator: torch.Generator) -> tuple[list, list]:
        """The training augmentation: each image flipped left-right with probability 1/2."""
        raise NotImplementedError

    def loss(self, model: nn.Module, images: list, targets: list, options) -> torch.Tensor:
        """The training loss of one batch (model in train mode; `options` from `options()`)."""
        raise NotImplementedError

    def forward_features(self, model: nn.Module, images: list) -> None:
        """A forward pass through every BN layer, without targets (precise BN)."""
        raise NotImplementedError

    def evaluator(self, data, cfg, device: torch.device) -> Evaluate:
        """The per-epoch evaluation of a run on the reward split: `(model, loaders, epoch) ->
        metrics` with every name of `metrics.names` (None where undefined)."""
        raise NotImplementedError
