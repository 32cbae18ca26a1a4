"""`build_spinenet_detector`: a backbone torch spec file (or a spec) into torchvision's RetinaNet,
Faster R-CNN or Mask R-CNN, the default kind from the file's task, and clear errors for a
classifier file or an unknown kind."""

from __future__ import annotations

import pytest
import torch
from torchvision.models.detection import FasterRCNN, MaskRCNN, RetinaNet

from proxy_trainer.modeling.torch_export import (
    HeadSettings,
    TorchSpecError,
    build_spinenet,
    build_spinenet_detector,
    read_torch_spec,
    save_torch_spec,
)
from search_space import get_builtin

SPINENET_49 = get_builtin("spinenet-49")


@pytest.mark.parametrize("kind, cls", [("retinanet", RetinaNet), ("faster_rcnn", FasterRCNN), ("mask_rcnn", MaskRCNN)])
def test_each_kind_from_a_backbone_file(tmp_path, kind, cls):
    path = tmp_path / "sp49.torch.json"
    save_torch_spec(path, SPINENET_49, "49S")
    with torch.device("meta"):
        model = build_spinenet_detector(path, kind, num_classes=3)
    assert isinstance(model, cls) and model.backbone.out_channels == 128  # 49S endpoints
    assert model.transform.min_size == (640,)  # the scaling's input size


def test_an_instance_file_builds_mask_rcnn_by_default(tmp_path):
    path = tmp_path / "inst.torch.json"
    save_torch_spec(path, SPINENET_49, "49", task="instance")
    assert read_torch_spec(path).task == "instance"
    with torch.device("meta"):
        assert isinstance(build_spinenet_detector(path, image_size=256), MaskRCNN)
        assert isinstance(build_spinenet_detector(SPINENET_49, model="49S"), RetinaNet)  # a bare spec
        assert build_spinenet(path).out_channels == 256  # still a backbone file


def test_a_classifier_file_or_unknown_kind_is_one_clear_error(tmp_path):
    path = tmp_path / "cls.torch.json"
    save_torch_spec(path, SPINENET_49, "49", head=HeadSettings())
    with pytest.raises(TorchSpecError, match="holds a classifier"):
        build_spinenet_detector(path)
    with pytest.raises(TorchSpecError, match="detector kind 'yolo' is unknown; use one of retinanet, faster_rcnn"):
        build_spinenet_detector(SPINENET_49, "yolo")
    with pytest.raises(TorchSpecError, match="task 'classification' has no backbone file"):
        save_torch_spec(tmp_path / "x.json", SPINENET_49, "49", task="classification")
