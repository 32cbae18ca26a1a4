"""The classification task's `TaskRunner`: the paper's classifier (`model.py`) trained with
softmax cross-entropy on images labelled by their largest object (`data.py`), scored by top-1
on the reward split (`evaluate.py`), BN statistics re-estimated first as the tier asks.

Options (`task.options`): `dropout` before the linear layer (default 0, as tensorflow/tpu), `head_conv` (the
optional 1x1 conv + BN of tensorflow/tpu's head; default off, as the paper's counts imply), and
`label_smoothing` of the cross-entropy (default 0: the paper's basic recipe; its improved one
uses 0.1).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from torch.nn import functional as F

from proxy_trainer.precise_bn import recompute_bn_statistics
from proxy_trainer.tasks.base import TaskOptionsError, TaskRunner, typed_options
from proxy_trainer.tasks.classification import METRICS
from proxy_trainer.tasks.classification.data import ClassificationDataset, check_labelled, flip_images
from proxy_trainer.tasks.classification.evaluate import accuracy, batch_labels, normalized_batch
from proxy_trainer.tasks.classification.model import build_classifier, describe_classifier


@dataclass(frozen=True)
class ClassifierOptions:
    """The classification task's options (see the module docstring)."""

    dropout: float = 0.0
    head_conv: bool = False
    label_smoothing: float = 0.0

    def __post_init__(self) -> None:
        for name in ("dropout", "label_smoothing"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value < 1.0:
                raise TaskOptionsError(f"task.options.{name} is {value!r}; it must be a number in [0, 1)")
        if not isinstance(self.head_conv, bool):
            raise TaskOptionsError(f"task.options.head_conv is {self.head_conv!r}; it must be true or false")


class ClassificationRunner(TaskRunner):
    metrics = METRICS

    def options(self, raw: Mapping) -> ClassifierOptions:
        return typed_options(self.metrics.task, ClassifierOptions, raw)

    def check_data(self, data) -> None:
        check_labelled(data.train, "training")
        check_labelled(data.val, "reward")

    def dataset(self, split, image_size, cache, inputs=None):
        return ClassificationDataset(split, image_size, cache=cache, inputs=inputs)

    def build_model(self, spec, cfg, num_classes, options):
        return build_classifier(spec, cfg.model, num_classes=num_classes, dropout=options.dropout,
                                head_conv=options.head_conv)

    def count(self, spec, cfg, num_classes, options):
        return describe_classifier(spec, cfg.model, num_classes=num_classes, image_size=cfg.image_size,
                                   head_conv=options.head_conv)

    def flip(self, images, targets, generator):
        return flip_images(images, targets, generator)

    def loss(self, model, images, targets, options):
        logits = model(normalized_batch(images))  # [N, K]
        return F.cross_entropy(logits.float(), batch_labels(targets, logits.device),
                               label_smoothing=options.label_smoothing)

    def forward_features(self, model, images):
        model(normalized_batch(images))

    def evaluator(self, data, cfg, device):
        from proxy_trainer.train import precise_bn_due

        num_classes = data.train.num_classes

        def evaluate(model, loaders, epoch: int) -> dict:
            if precise_bn_due(cfg, epoch == cfg.epochs):
                recompute_bn_statistics(model, loaders.statistics, cfg.precise_bn_batches, device,
                                        self.forward_features)
            return accuracy(model, loaders.val, device, num_classes)

        return evaluate


RUNNER = ClassificationRunner()
