"""`nas export --format torch --task instance`: the file records its task, so the builder makes
torchvision's Mask R-CNN from it without being told; a detection export keeps the form it had."""

import json

import pytest

from nas.cli import main
from proxy_trainer.modeling.torch_export import build_spinenet_detector

pytestmark = pytest.mark.usefixtures("one_thread")


def test_an_instance_export_builds_mask_rcnn(tmp_path, capsys):
    instance, detection = tmp_path / "i.torch.json", tmp_path / "d.torch.json"
    assert main(["export", "spinenet-49", "--format", "torch", "--task", "instance", "-o", str(instance)]) == 0
    assert main(["export", "spinenet-49", "--format", "torch", "-o", str(detection)]) == 0
    assert json.loads(instance.read_text())["task"] == "instance" and "task" not in json.loads(detection.read_text())
    assert type(build_spinenet_detector(str(instance), model="49S", num_classes=5, image_size=128)).__name__ == "MaskRCNN"
    assert type(build_spinenet_detector(str(detection), model="49S", num_classes=5, image_size=128)).__name__ == "RetinaNet"
