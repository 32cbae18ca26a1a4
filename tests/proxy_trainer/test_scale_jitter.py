"""Scale jitter (proxy.scale_jitter): each image rescaled by a seeded factor and padded or cropped
back to its side, boxes and masks moved with it, objects pushed off the canvas dropped; off by
default; a jittered training is repeatable."""

from __future__ import annotations

import pytest
import torch

from proxy_trainer.config import ConfigError, DataConfig, ProxyConfig
from proxy_trainer.data.images import scale_jitter_batch
from proxy_trainer.train import train_and_evaluate
from search_space import BUILTIN_SPECS
from tests.proxy_trainer.test_train import smoke_config

pytestmark = pytest.mark.usefixtures("one_thread")


def factors(seed: int, count: int, jitter: float) -> list[float]:
    return (1.0 + jitter * (2 * torch.rand(count, generator=torch.Generator().manual_seed(seed)) - 1)).tolist()


def test_boxes_and_masks_follow_the_drawn_factor():
    image = torch.ones(3, 40, 40)
    masks = torch.zeros(2, 40, 40, dtype=torch.uint8)
    masks[0, 4:12, 4:12] = 1
    masks[1, 30:40, 30:40] = 1
    target = {"boxes": torch.tensor([[4.0, 4.0, 12.0, 12.0], [30.0, 30.0, 40.0, 40.0]]),
              "labels": torch.tensor([1, 2]), "masks": masks}
    seed = next(s for s in range(100) if factors(s, 1, 0.5)[0] < 0.8)  # a clear shrink
    factor = factors(seed, 1, 0.5)[0]
    new = round(40 * factor)
    (out,), (moved,) = scale_jitter_batch([image], [target], torch.Generator().manual_seed(seed), 0.5)
    assert out.shape == (3, 40, 40) and out[:, new:, :].abs().sum() == 0 and out[:, :new, :new].min() > 0.99
    assert torch.allclose(moved["boxes"], target["boxes"] * new / 40)
    assert torch.equal(moved["labels"], target["labels"]) and moved["masks"].shape == (2, 40, 40)
    assert moved["masks"][0].sum() > 0 and moved["masks"][:, new:, :].sum() == 0


def test_objects_cropped_away_are_dropped_and_labels_untouched_without_boxes():
    seed = next(s for s in range(100) if factors(s, 1, 0.5)[0] > 1.3)  # a clear enlargement
    target = {"boxes": torch.tensor([[2.0, 2.0, 6.0, 6.0], [39.0, 39.0, 40.0, 40.0]]), "labels": torch.tensor([0, 3])}
    (_,), (moved,) = scale_jitter_batch([torch.ones(3, 40, 40)], [target], torch.Generator().manual_seed(seed), 0.5)
    assert moved["labels"].tolist() == [0] and moved["boxes"].shape == (1, 4)  # the corner box left the canvas
    label = {"labels": torch.tensor(2)}
    assert scale_jitter_batch([torch.ones(3, 8, 8)], [label], torch.Generator().manual_seed(0), 0.2)[1][0] is label


def test_off_by_default_and_checked():
    assert ProxyConfig().scale_jitter == 0.0
    with pytest.raises(ConfigError, match=r"proxy.scale_jitter is 1.5; use a fraction in \[0, 1\)"):
        ProxyConfig(scale_jitter=1.5)


def test_a_jittered_training_repeats_exactly(tmp_path):
    data = DataConfig(synth_images=16, synth_size=64, heldout_images=4, cache_dir=str(tmp_path))
    proxy = smoke_config(epochs=1, scale_jitter=0.3)
    first, second = (train_and_evaluate(BUILTIN_SPECS["r50-sd"], proxy, data) for _ in range(2))
    plain = train_and_evaluate(BUILTIN_SPECS["r50-sd"], smoke_config(epochs=1), data)
    assert first.status.value == "ok" and first.loss == second.loss and first.loss != plain.loss
