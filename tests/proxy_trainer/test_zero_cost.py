"""Zero-cost scores: exact values on hand-checkable toy networks, finite and repeatable on real
detectors at proxy width, and the scored model is never changed."""

import math

import pytest
import torch
from torch import nn

from proxy_trainer.config import DataConfig
from proxy_trainer.data.images import DetectionDataset, collate
from proxy_trainer.data.prepare import prepare_data
from proxy_trainer.estimates.zero_cost import grad_norm, naswot, snip, synflow
from proxy_trainer.modeling.detector import build_detector
from proxy_trainer.modeling.model_config import ModelConfig
from search_space import BUILTIN_SPECS

pytestmark = pytest.mark.usefixtures("one_thread")
SMALL = ModelConfig(filter_size_scale=0.125, resample_alpha=0.25, endpoints_num_filters=16, head_num_convs=1,
                    head_num_filters=16)


class OneConv(nn.Module):
    """A 1x1 conv from 3 channels to 1 whose output is the only level."""

    def __init__(self, weights):
        super().__init__()
        self.conv = nn.Conv2d(3, 1, 1, bias=False)
        with torch.no_grad():
            self.conv.weight.copy_(torch.tensor(weights, dtype=torch.float32).view(1, 3, 1, 1))
        self.relu = nn.ReLU()

    def forward(self, images):
        return {"3": self.relu(self.conv(images))}


def test_synflow_of_one_conv_is_pixels_times_absolute_weights():
    # R = S^2 * sum|w| on an all-ones input, dR/dw_c = S^2, so the score is S^2 * sum|w|
    assert synflow(OneConv([0.5, -2.0, 1.0]), image_size=4) == pytest.approx(16 * 3.5)


def test_naswot_rewards_distinct_activity_codes():
    net = OneConv([1.0, 0.0, 0.0])  # one unit per pixel: active where the first channel is positive
    distinct = torch.tensor([1.0, -1.0]).view(2, 1, 1, 1) * torch.tensor([[1.0, 1.0], [1.0, -1.0]]).view(1, 1, 2, 2)
    images = torch.cat([distinct, torch.zeros(2, 2, 2, 2)], dim=1)  # [2, 3, 2, 2]
    # codes (1,1,1,0) and (0,0,0,1): they agree on no unit -> K = [[4, 0], [0, 4]], log det = log 16
    assert naswot(net, images) == pytest.approx(math.log(16))
    same = images[:1].repeat(2, 1, 1, 1)
    assert naswot(net, same) == -math.inf  # identical codes: K is singular


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    data = prepare_data(DataConfig(synth_images=12, synth_size=64, heldout_images=4,
                                   cache_dir=str(tmp_path_factory.mktemp("cache"))))
    images, targets, _ = collate([DetectionDataset(data.train, 64)[i] for i in range(4)])
    return images, targets, data.train.num_classes


@pytest.mark.parametrize("name", ["spinenet-49", "r50-sd"])
def test_scores_of_real_detectors_are_finite_repeatable_and_leave_the_model(batch, name):
    images, targets, classes = batch
    torch.manual_seed(0)
    detector = build_detector(BUILTIN_SPECS[name], SMALL, num_classes=classes, image_size=64)
    before = {k: v.clone() for k, v in detector.state_dict().items()}
    scores = [grad_norm(detector, images, targets), snip(detector, images, targets),
              synflow(detector.backbone, 64), naswot(detector.backbone, torch.stack(images))]
    assert all(math.isfinite(s) and s > 0 for s in scores[:3]) and math.isfinite(scores[3])
    assert scores == [grad_norm(detector, images, targets), snip(detector, images, targets),
                      synflow(detector.backbone, 64), naswot(detector.backbone, torch.stack(images))]
    assert all(torch.equal(v, before[k]) for k, v in detector.state_dict().items())


def test_estimates_of_an_architecture_are_repeatable_and_count_as_the_tier_does(tmp_path):
    from proxy_trainer.config import ProxyConfig
    from proxy_trainer.estimates.score import estimate_architecture, fixed_batch
    from proxy_trainer.train import TaskParts

    data = DataConfig(synth_images=12, synth_size=64, heldout_images=4, cache_dir=str(tmp_path))
    proxy = ProxyConfig(model=SMALL, image_size=64)
    images, targets, classes = fixed_batch(proxy, data, batch_size=3)
    first = DetectionDataset(prepare_data(data).train, 64, cache=False)[0]
    assert len(images) == 3 and torch.equal(images[0], first[0])  # the first training image, unflipped
    spec = BUILTIN_SPECS["spinenet-49"]
    one, two = (estimate_architecture(spec, proxy, data, (images, targets, classes)) for _ in range(2))
    scores = ("params", "flops", "grad_norm", "snip", "synflow", "naswot")
    assert [one[k] for k in scores] == [two[k] for k in scores]
    parts = TaskParts.of(None)
    assert (one["params"], one["flops"]) == parts.runner.count(spec, proxy, classes, parts.options)
