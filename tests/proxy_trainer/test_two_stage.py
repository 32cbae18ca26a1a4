"""The three torchvision detectors around our backbone (RetinaNet, Faster R-CNN, Mask R-CNN): each
learns on the bundled synthetic data (the loss of one fixed batch falls below 0.8x its first
value within 16 SGD steps), the same seed gives identical losses, the two-stage ones read P2..P7
from Model Garden's 16-entry SpineNet-49 and P3..P7 otherwise, and bad sizes are user errors."""

from __future__ import annotations

import pytest
import torch
from torchvision.models.detection import FasterRCNN, MaskRCNN

from proxy_trainer.data.cache import ensure_synthetic
from proxy_trainer.data.coco import load_coco
from proxy_trainer.data.images import collate
from proxy_trainer.modeling.detector import build_detector
from proxy_trainer.modeling.model_config import ModelConfig
from proxy_trainer.modeling.two_stage import build_faster_rcnn, build_mask_rcnn, shift_labels, two_stage_levels
from proxy_trainer.tasks.instance.data import InstanceDataset
from search_space import from_tf_text, get_builtin, to_tf_text
from search_space.errors import UserInputError

pytestmark = pytest.mark.usefixtures("one_thread")

SIZE = 64
SMALL = ModelConfig(filter_size_scale=0.125, resample_alpha=0.25, endpoints_num_filters=16, head_num_convs=1,
                    head_num_filters=16)  # the smoke tier's widths
BUILDERS = {"retinanet": build_detector, "faster_rcnn": build_faster_rcnn, "mask_rcnn": build_mask_rcnn}
STEPS, LR = 16, 0.1
L2_ENTRY = "    (2, 'bottleneck', (2, 13), True),\n"


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    """Four 64-px synthetic images with boxes, labels 0..4 and visible masks."""
    images, annotations = ensure_synthetic(8, SIZE, 0, cache_dir=str(tmp_path_factory.mktemp("cache")))
    dataset = InstanceDataset(load_coco(images, annotations, masks=True), SIZE)
    images, targets, _ = collate([dataset[i] for i in range(4)])
    return images, targets


def _targets(kind: str, targets: list[dict]) -> list[dict]:
    if kind == "retinanet":
        return [{"boxes": t["boxes"], "labels": t["labels"]} for t in targets]
    shifted = shift_labels(targets)  # two-stage heads: 0 is the background
    return shifted if kind == "mask_rcnn" else [{k: v for k, v in t.items() if k != "masks"} for t in shifted]


def train_losses(kind: str, batch, steps: int) -> list[float]:
    """The summed loss of each of `steps` SGD steps on one batch, from seed 0."""
    images, targets = batch
    torch.manual_seed(0)
    model = BUILDERS[kind](get_builtin("spinenet-49"), SMALL, num_classes=5, image_size=SIZE).train()
    optimizer = torch.optim.SGD(model.parameters(), lr=LR, momentum=0.9)
    losses = []
    for _ in range(steps):
        loss = sum(model(images, _targets(kind, targets)).values())
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 10.0)
        optimizer.step()
        losses.append(float(loss.detach()))
    return losses


@pytest.mark.parametrize("kind", list(BUILDERS))
def test_each_detector_learns_and_the_same_seed_gives_the_same_losses(kind, batch):
    losses = train_losses(kind, batch, STEPS)
    assert losses[-1] < 0.8 * losses[0], losses
    assert train_losses(kind, batch, 3) == losses[:3]  # exact: seeded, one thread


def test_mask_rcnn_trains_every_loss_and_predicts_masks(batch):
    images, targets = batch
    torch.manual_seed(0)
    model = build_mask_rcnn(None, SMALL, num_classes=5, image_size=SIZE)  # the ResNet-50-FPN baseline
    assert isinstance(model, MaskRCNN) and model.roi_heads.box_predictor.cls_score.out_features == 6
    losses = model.train()(images, shift_labels(targets))
    assert set(losses) == {"loss_classifier", "loss_box_reg", "loss_mask", "loss_objectness", "loss_rpn_box_reg"}
    with torch.no_grad():
        output = model.eval()(images[:1])[0]
    assert output["masks"].shape[1:] == (1, SIZE, SIZE) and len(output["boxes"]) <= 100


def test_p2_for_the_16_entry_spinenet_49_and_p3_otherwise():
    spec = from_tf_text(to_tf_text(get_builtin("spinenet-49")).replace("]\n", L2_ENTRY + "]\n"), name="mg-49")
    assert two_stage_levels(spec, SMALL).min_level == 2
    assert two_stage_levels(get_builtin("spinenet-49"), SMALL) == SMALL and two_stage_levels(None, SMALL) == SMALL
    with_l2 = build_mask_rcnn(spec, SMALL, num_classes=5, image_size=SIZE)
    assert with_l2.roi_heads.box_roi_pool.featmap_names == ["2", "3", "4", "5", "6", "7"]
    assert with_l2.roi_heads.mask_roi_pool.featmap_names == ["2", "3", "4", "5", "6", "7"]
    assert with_l2.rpn.anchor_generator.sizes[0][0] == 3.0 * 4  # anchor_size x stride of P2
    plain = build_faster_rcnn(get_builtin("spinenet-49"), SMALL, num_classes=5, image_size=SIZE)
    assert isinstance(plain, FasterRCNN) and plain.roi_heads.box_roi_pool.featmap_names == ["3", "4", "5", "6", "7"]
    features = with_l2.backbone.eval()(torch.rand(1, 3, SIZE, SIZE))
    assert list(features) == ["2", "3", "4", "5", "6", "7"] and features["2"].shape[-1] == SIZE // 4


def test_heads_are_sized_from_the_config():
    full = ModelConfig.from_scaling("49")  # 4 x 256 head: the paper's Mask R-CNN heads
    with torch.device("meta"):
        model = build_mask_rcnn(get_builtin("spinenet-49"), full, num_classes=80, image_size=640)
    assert model.roi_heads.box_head.fc6.out_features == 1024 and len(model.roi_heads.mask_head) == 4
    assert model.roi_heads.mask_predictor.mask_fcn_logits.out_channels == 81
    assert model.transform.min_size == (640,) and model.transform.max_size == 640


@pytest.mark.parametrize("builder", [build_faster_rcnn, build_mask_rcnn])
def test_bad_sizes_are_user_errors(builder):
    with pytest.raises(UserInputError, match="must be positive"):
        builder(get_builtin("spinenet-49"), SMALL, num_classes=0, image_size=SIZE)
