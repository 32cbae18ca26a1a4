"""A small JSON file that rebuilds a SpineNet, the paper's classifier, or a torchvision detector
around it, in PyTorch.

The file holds a format tag, the spec and the scaling; a classifier file adds `"task":
"classification"` and its head (`num_classes`, `dropout`, `head_conv`). A file without `task` is a
backbone file (as every file written before classifiers), so old files read as they did; a
backbone file may name the task it was searched for, `"task": "detection"` or `"instance"`.
`save_torch_spec` writes every kind (`nas export --format torch [--task classification]`);
`read_torch_spec` reads any (json only, never pickle); `build_spinenet` builds a backbone
file or an `ArchSpec` into a `SpineNet`, `build_spinenet_classifier` a classifier file or an
`ArchSpec` into a `Classifier`, and `build_spinenet_detector` a backbone file or an `ArchSpec`
into torchvision's RetinaNet, Faster R-CNN or Mask R-CNN (the modules the detection and instance
searches train). Giving a builder the other kind of file is one clear error.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

from torch import nn

from proxy_trainer.modeling.detector import build_backbone, build_detector
from proxy_trainer.modeling.model_config import ModelConfig
from proxy_trainer.modeling.spinenet import SpineNet
from proxy_trainer.modeling.two_stage import build_faster_rcnn, build_mask_rcnn
from proxy_trainer.tasks.classification.model import (
    IMAGENET_CLASSES,
    Classifier,
    build_classifier,
    check_head_arguments,
)
from search_space.errors import UserInputError
from search_space.scaling import get_scaling
from search_space.serialize import parse_json_text, read_text_file, spec_from_dict, spec_to_dict
from search_space.spec import ArchSpec

FORMAT_TAG = "spinenet-nas/torch-spinenet/v1"
DEFAULT_MODEL = "49"  # scaling used when neither the file nor the caller names one
BACKBONE_TASK = "detection"  # a file without "task": the backbone alone (torchvision's RetinaNet takes it)
CLASSIFICATION_TASK = "classification"  # the backbone with the paper's classifier head
INSTANCE_TASK = "instance"  # a backbone file searched for instance segmentation (Mask R-CNN)
TASKS = (BACKBONE_TASK, CLASSIFICATION_TASK, INSTANCE_TASK)
DETECTOR_BUILDERS = {"retinanet": build_detector, "faster_rcnn": build_faster_rcnn, "mask_rcnn": build_mask_rcnn}
DETECTOR_OF_TASK = {BACKBONE_TASK: "retinanet", INSTANCE_TASK: "mask_rcnn"}  # what a file's task trained
COCO_CLASSES = 80  # the object categories of COCO's detection and instance annotations


class TorchSpecError(UserInputError):
    """A torch spec file is missing, unreadable or not in the expected form."""


@dataclass(frozen=True)
class HeadSettings:
    """The classifier head a classification file holds (`ClassificationHead`'s arguments).

    The defaults are the classification task's (`nas/conf/task/classification.yaml`): no
    dropout and no head conv, with ImageNet's 1000 classes.
    """

    num_classes: int = IMAGENET_CLASSES
    dropout: float = 0.0
    head_conv: bool = False

    def __post_init__(self) -> None:
        check_head_arguments(self.num_classes, self.dropout)
        if not isinstance(self.head_conv, bool):
            raise UserInputError(f"head_conv is {self.head_conv!r}; it must be true or false")

    def to_dict(self) -> dict:
        return {"num_classes": self.num_classes, "dropout": self.dropout, "head_conv": self.head_conv}


@dataclass(frozen=True)
class TorchSpec:
    """What a torch spec file holds: the spec, its scaling id, and the head of a classifier file."""

    spec: ArchSpec
    model: str
    head: HeadSettings | None  # None: a backbone file
    backbone_task: str = BACKBONE_TASK  # a backbone file's task: detection (also when unnamed) or instance

    @property
    def task(self) -> str:
        return self.backbone_task if self.head is None else CLASSIFICATION_TASK


def save_torch_spec(path: str | os.PathLike, spec: ArchSpec, model: str | None,
                    head: HeadSettings | None = None, task: str | None = None) -> None:
    """Write {format, model, spec, scaling} as JSON, plus {task, num_classes, dropout, head_conv}
    for a classifier.

    Args:
        path: output file.
        spec: the architecture.
        model: SpineNet scaling id ('49S', '49', '96', '143', '143L', '190'), or None for '49'.
        head: the classifier head; None writes a backbone file.
        task: a backbone file's task, written as its "task": 'detection' or 'instance' (None:
            no "task" key, as before tasks).
    Raises:
        UserInputError: unknown model id or task, or unwritable path.
    """
    model = model or DEFAULT_MODEL
    data = {"format": FORMAT_TAG, "model": model, "spec": spec_to_dict(spec), "scaling": get_scaling(model).to_dict()}
    if head is not None:
        data.update({"task": CLASSIFICATION_TASK, **head.to_dict()})
    elif task is not None:
        if task not in DETECTOR_OF_TASK:
            raise TorchSpecError(f"task {task!r} has no backbone file; use one of {', '.join(DETECTOR_OF_TASK)}")
        data["task"] = task
    try:
        with open(path, "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=2)
    except OSError as err:
        raise TorchSpecError(f"cannot write {os.fspath(path)} ({err.strerror}); choose a writable path") from None


def read_torch_spec(path: str | os.PathLike) -> TorchSpec:
    """Read a file written by `save_torch_spec`, of either kind.

    Raises:
        UserInputError: unreadable file, bad JSON, wrong format tag, unknown task, bad spec, model
            id or head values.
    """
    where = os.fspath(path)
    data = parse_json_text(read_text_file(path), where)
    if not isinstance(data, dict) or data.get("format") != FORMAT_TAG:
        raise TorchSpecError(f"{where} is not a torch spec file (expected format '{FORMAT_TAG}')")
    model = data.get("model", DEFAULT_MODEL)
    get_scaling(model)
    head = _head_of(data, where)
    backbone_task = BACKBONE_TASK if head is not None else data.get("task", BACKBONE_TASK)
    return TorchSpec(spec_from_dict(data.get("spec")), model, head, backbone_task)


def _head_of(data: dict, where: str) -> HeadSettings | None:
    """The head of a classification file; None for a backbone file (no "task" key, 'detection'
    or 'instance')."""
    task = data.get("task", BACKBONE_TASK)
    if task not in TASKS:
        raise TorchSpecError(f"{where} has task {task!r}; a torch spec file's task is one of {', '.join(TASKS)}")
    if task != CLASSIFICATION_TASK:
        return None
    defaults = HeadSettings()
    try:
        return HeadSettings(data.get("num_classes", defaults.num_classes), data.get("dropout", defaults.dropout),
                            data.get("head_conv", defaults.head_conv))
    except UserInputError as err:
        raise TorchSpecError(f"{where}: {err}") from None


def load_torch_spec(path: str | os.PathLike) -> tuple[ArchSpec, str]:
    """(spec, model id) of a file written by `save_torch_spec`, of either kind.

    Raises:
        UserInputError: as `read_torch_spec`.
    """
    stored = read_torch_spec(path)
    return stored.spec, stored.model


def build_spinenet(path_or_spec: ArchSpec | str | os.PathLike, model: str | None = None) -> SpineNet:
    """A SpineNet from a backbone torch spec file or an `ArchSpec`.

    Args:
        path_or_spec: a backbone file written by `save_torch_spec`, or a spec.
        model: scaling id; overrides the file's; default '49' for a bare spec.
    Raises:
        UserInputError: bad file, a classification file, or unknown model id.
    """
    stored = _stored(path_or_spec)
    if stored.head is not None:
        raise TorchSpecError(f"{os.fspath(path_or_spec)} holds a classifier (task 'classification'); build it with "
                             "build_spinenet_classifier(path), or export the backbone without --task classification")
    return build_backbone(stored.spec, ModelConfig.from_scaling(model or stored.model))


def build_spinenet_classifier(
    path_or_spec: ArchSpec | str | os.PathLike,
    model: str | None = None,
    num_classes: int | None = None,
    *,
    dropout: float | None = None,
    head_conv: bool | None = None,
) -> Classifier:
    """The paper's classifier (SpineNet + head with aggregation 'all') from a classification
    torch spec file or an `ArchSpec`; the same module the classification search trains.

    Args:
        path_or_spec: a classification file written by `save_torch_spec`, or a spec.
        model: scaling id; overrides the file's; default '49' for a bare spec.
        num_classes, dropout, head_conv: override the file's head (a bare spec: 1000 classes,
            no dropout, no head conv, as `HeadSettings`).
    Raises:
        UserInputError: bad file, a backbone file, unknown model id or bad head values.
    """
    stored = _stored(path_or_spec, HeadSettings())
    if stored.head is None:
        raise TorchSpecError(f"{os.fspath(path_or_spec)} holds a backbone, not a classifier; build it with "
                             "build_spinenet(path), or export with --task classification")
    head = stored.head
    head = HeadSettings(head.num_classes if num_classes is None else num_classes,
                        head.dropout if dropout is None else dropout,
                        head.head_conv if head_conv is None else head_conv)
    return build_classifier(stored.spec, ModelConfig.from_scaling(model or stored.model),
                            num_classes=head.num_classes, dropout=head.dropout, head_conv=head.head_conv)


def build_spinenet_detector(
    path_or_spec: ArchSpec | str | os.PathLike,
    kind: str | None = None,
    model: str | None = None,
    num_classes: int = COCO_CLASSES,
    *,
    image_size: int | None = None,
) -> nn.Module:
    """A torchvision detector around the SpineNet of a backbone torch spec file or an `ArchSpec`:
    RetinaNet (the detection search's model), Faster R-CNN, or Mask R-CNN (the instance search's),
    untrained, built as the searches build them (`modeling/detector.py`, `modeling/two_stage.py`).

    Args:
        path_or_spec: a backbone file written by `save_torch_spec`, or a spec.
        kind: 'retinanet', 'faster_rcnn' or 'mask_rcnn'; None: what the file's task trained
            (instance: Mask R-CNN; detection, unnamed or a bare spec: RetinaNet).
        model: scaling id; overrides the file's; default '49' for a bare spec.
        num_classes: object classes without background (COCO's 80 by default); RetinaNet's
            targets are labelled 0..K-1, the two-stage detectors' 1..K (0 is background).
        image_size: the square input the transform keeps; default the scaling's (640 for '49').
    Raises:
        UserInputError: bad file, a classification file, unknown kind or model id, bad sizes.
    """
    stored = _stored(path_or_spec)
    if stored.head is not None:
        raise TorchSpecError(f"{os.fspath(path_or_spec)} holds a classifier (task 'classification'); build it with "
                             "build_spinenet_classifier(path), or export the backbone without --task classification")
    kind = kind or DETECTOR_OF_TASK[stored.task]
    if kind not in DETECTOR_BUILDERS:
        raise TorchSpecError(f"detector kind {kind!r} is unknown; use one of {', '.join(DETECTOR_BUILDERS)}")
    scaling = get_scaling(model or stored.model)
    return DETECTOR_BUILDERS[kind](stored.spec, ModelConfig.from_scaling(scaling), num_classes=num_classes,
                                   image_size=image_size or scaling.input_size)


def _stored(path_or_spec: ArchSpec | str | os.PathLike, head: HeadSettings | None = None) -> TorchSpec:
    """A file's contents, or a bare spec at the default scaling with the given head."""
    if isinstance(path_or_spec, ArchSpec):
        return TorchSpec(path_or_spec, DEFAULT_MODEL, head)
    return read_torch_spec(path_or_spec)
