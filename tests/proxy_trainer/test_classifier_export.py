"""The classifier's torch spec file and its builder (`build_spinenet_classifier`): the file's
fields, a few real seeded training steps of the built module on the bundled synthetic
classification images, outputs equal to the search's model for the same weights, and one clear
error for a wrong or damaged file."""

from __future__ import annotations

import json
import os
import time
from dataclasses import fields

import pytest
import torch

from proxy_trainer.config import DataConfig, ProxyConfig
from proxy_trainer.data.prepare import prepare_data
from proxy_trainer.modeling.model_config import ModelConfig
from proxy_trainer.modeling.torch_export import (
    FORMAT_TAG,
    HeadSettings,
    build_spinenet,
    build_spinenet_classifier,
    read_torch_spec,
    save_torch_spec,
)
from proxy_trainer.tasks.classification.data import ClassificationDataset
from proxy_trainer.tasks.classification.evaluate import normalized_batch
from proxy_trainer.tasks.classification.model import Classifier
from proxy_trainer.tasks.classification.runner import RUNNER, ClassifierOptions
from search_space import get_builtin
from search_space.errors import UserInputError

SPINENET_49 = get_builtin("spinenet-49")
MODEL = "49S"  # the smallest official scaling; at 64 px a training step takes a fraction of a second
IMAGE_SIZE = 64
BATCH = 8
STEPS = 8  # SGD steps
LR = 0.1  # the classification tier's peak LR (nas/conf/proxy/classification.yaml)
GOLDEN = os.path.join(os.path.dirname(__file__), os.pardir, "nas", "golden")


pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """A tiny bundled synthetic classification set (one object per image, 5 classes) in its own cache."""
    cache = tmp_path_factory.mktemp("cache")
    return prepare_data(DataConfig(synth_images=32, synth_size=IMAGE_SIZE, heldout_images=8, synth_scales="single",
                                   cache_dir=str(cache)))


@pytest.fixture(scope="module")
def batch(data):
    """The first BATCH training images [3, 64, 64] in [0, 1] and their targets {"labels": [label]}."""
    dataset = ClassificationDataset(data.train, IMAGE_SIZE, cache=True)
    items = [dataset[i] for i in range(BATCH)]
    return [image for image, _, _ in items], [target for _, target, _ in items]


@pytest.fixture(scope="module")
def classifier_file(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("export") / "sp49s_cls.torch.json"
    save_torch_spec(path, SPINENET_49, MODEL, HeadSettings(num_classes=data.train.num_classes))
    return path


def test_the_file_holds_the_task_and_the_head(classifier_file, data):
    stored = json.loads(classifier_file.read_text())
    assert stored["format"] == FORMAT_TAG and stored["model"] == MODEL
    assert (stored["task"], stored["num_classes"], stored["dropout"], stored["head_conv"]) == (
        "classification", data.train.num_classes, 0.0, False)
    read = read_torch_spec(classifier_file)
    assert (read.spec, read.model, read.task) == (SPINENET_49, MODEL, "classification")


def test_head_defaults_are_the_classification_tasks():
    task_defaults = {f.name: f.default for f in fields(ClassifierOptions)}
    head = HeadSettings()
    assert (head.num_classes, head.dropout, head.head_conv) == (1000, task_defaults["dropout"], task_defaults["head_conv"])


def test_builder_from_the_file_and_from_a_spec(classifier_file, data):
    from_file = build_spinenet_classifier(classifier_file)
    assert isinstance(from_file, Classifier) and from_file.backbone.spec == SPINENET_49
    assert from_file.backbone.out_channels == 128 and from_file.head.logits.out_features == data.train.num_classes
    shapes = {k: tuple(v.shape) for k, v in from_file.state_dict().items()}
    direct = build_spinenet_classifier(SPINENET_49, MODEL, data.train.num_classes)
    assert shapes == {k: tuple(v.shape) for k, v in direct.state_dict().items()}
    bare = build_spinenet_classifier(SPINENET_49)  # 49, 1000 classes, no head conv
    assert bare.backbone.out_channels == 256 and bare.head.logits.out_features == 1000
    assert isinstance(bare.head.embed, torch.nn.Identity)
    overridden = build_spinenet_classifier(classifier_file, num_classes=7, dropout=0.3, head_conv=True)
    assert overridden.head.logits.out_features == 7 and overridden.head.dropout.p == 0.3
    assert not isinstance(overridden.head.embed, torch.nn.Identity)


def train_losses(path, images, targets, steps: int, seed: int) -> list[float]:
    """Build the file's classifier at `seed` and take `steps` SGD steps on one fixed batch with the
    search's loss (ImageNet-normalised inputs, cross-entropy). Returns steps + 1 losses, in train
    mode: the initial one, then the loss after each step."""
    torch.manual_seed(seed)
    model = build_spinenet_classifier(path).train()
    optimizer = torch.optim.SGD(model.parameters(), lr=LR, momentum=0.9)
    options = RUNNER.options({})
    losses = []
    for step in range(steps + 1):
        loss = RUNNER.loss(model, images, targets, options)
        losses.append(loss.item())
        if step < steps:
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return losses


def test_a_few_training_steps_learn_and_repeat_exactly(classifier_file, batch):
    images, targets = batch
    started = time.perf_counter()
    losses = train_losses(classifier_file, images, targets, STEPS, seed=0)
    seconds = time.perf_counter() - started
    print(f"{MODEL} at {IMAGE_SIZE} px, batch {BATCH}: loss {losses[0]:.4f} -> {losses[STEPS]:.4f} "
          f"after {STEPS} steps ({seconds:.1f} s)")
    assert len(losses) == STEPS + 1 and losses[STEPS] < 0.8 * losses[0], losses
    assert train_losses(classifier_file, images, targets, STEPS, seed=0) == losses  # exact, not approximate
    assert train_losses(classifier_file, images, targets, 0, seed=1)[0] != losses[0]  # the seed matters


def test_outputs_equal_the_search_models_for_the_same_weights(classifier_file, batch, data):
    images, _ = batch
    inputs = normalized_batch(images)  # [8, 3, 64, 64]
    torch.manual_seed(0)
    exported = build_spinenet_classifier(classifier_file)
    with torch.no_grad():
        exported.train()(inputs)  # moves the BN statistics away from their initial values
    torch.manual_seed(1)
    cfg = ProxyConfig(model=ModelConfig.from_scaling(MODEL), image_size=IMAGE_SIZE)
    searched = RUNNER.build_model(SPINENET_49, cfg, data.train.num_classes, RUNNER.options({}))
    exported.eval()
    searched.eval()
    with torch.no_grad():
        assert not torch.equal(exported(inputs), searched(inputs))  # different seeds, different weights
        searched.load_state_dict(exported.state_dict(), strict=True)
        logits = exported(inputs)
        assert logits.shape == (BATCH, data.train.num_classes)
        assert torch.equal(logits, searched(inputs))


def test_each_builder_refuses_the_other_kind_of_file(classifier_file):
    with pytest.raises(UserInputError, match="holds a classifier .*build_spinenet_classifier"):
        build_spinenet(classifier_file)
    backbone_file = os.path.join(GOLDEN, "spinenet-49S.torch.json")  # written before classifier files existed
    assert read_torch_spec(backbone_file).task == "detection"
    with pytest.raises(UserInputError, match="holds a backbone, not a classifier; build it with build_spinenet"):
        build_spinenet_classifier(backbone_file)


@pytest.mark.parametrize("change, fragment", [
    ({"task": "segmentation"}, "has task 'segmentation'"),
    ({"num_classes": 0}, "num_classes is 0"),
    ({"num_classes": "ten"}, "num_classes is 'ten'"),
    ({"dropout": 1.5}, "dropout is 1.5"),
    ({"head_conv": "yes"}, "head_conv is 'yes'"),
])
def test_a_damaged_classifier_file_is_one_user_error(classifier_file, tmp_path, change, fragment):
    damaged = tmp_path / "damaged.torch.json"
    damaged.write_text(json.dumps({**json.loads(classifier_file.read_text()), **change}))
    with pytest.raises(UserInputError, match=fragment) as error:
        build_spinenet_classifier(damaged)
    assert str(damaged) in str(error.value) and "\n" not in str(error.value)
