"""Proxy/data configs: dict round trips, unknown keys and bad values named, every tier file
loadable with a reason comment on each value, and the learning-rate schedule's exact values."""

from __future__ import annotations

import os

import pytest
import yaml

from proxy_trainer.config import ConfigError, DataConfig, ProxyConfig
from proxy_trainer.schedule import lr_factor

CONF = os.path.join(os.path.dirname(__file__), "..", "..", "nas", "conf")
TIERS = ("smoke", "cpu", "repro", "coco512", "classification", "instance")
DATA = ("synthetic", "synthetic_repro", "coco")


def _yaml(group: str, name: str) -> tuple[dict, str]:
    """The file's values without its Hydra defaults list (Hydra consumes it), and its text."""
    path = os.path.join(CONF, group, f"{name}.yaml")
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    values = yaml.safe_load(text)
    values.pop("defaults", None)
    return values, text


@pytest.mark.parametrize("tier", TIERS)
def test_tier_files_load_and_round_trip(tier):
    data, text = _yaml("proxy", tier)
    config = ProxyConfig.from_dict(data)
    assert config.tier == tier
    assert ProxyConfig.from_dict(config.to_dict()) == config
    values = [line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    assert all("#" in line for line in values if not line.rstrip().endswith(":")), "every value has a reason comment"


def test_coco512_is_the_papers_proxy():
    config = ProxyConfig.from_dict(_yaml("proxy", "coco512")[0])
    model = config.model
    assert (model.filter_size_scale, model.resample_alpha, model.head_num_filters, model.head_num_convs) == (0.25, 0.25, 64, 4)
    assert (config.image_size, config.epochs, config.device) == (512, 5, "auto")
    assert (config.amp, config.channels_last) == ("bf16", True)  # stated for the GPU, not left to auto


@pytest.mark.parametrize("name", DATA)
def test_data_files_load(name):
    raw = _yaml("data", name)[0]
    if name == "coco":
        with pytest.raises(ConfigError, match="data=coco needs data.images=DIR and data.annotations=FILE"):
            DataConfig.from_dict(raw)
        raw = {**raw, "images": "/x", "annotations": "/x.json"}
    config = DataConfig.from_dict(raw)
    assert config.kind == name.split("_")[0] and DataConfig.from_dict(config.to_dict()) == config
    assert config.heldout_images == {"synthetic": 64, "synthetic_repro": 128, "coco": 7392}[name]


@pytest.mark.parametrize(
    "cls, data, message",
    [
        (ProxyConfig, {"epoch": 2}, "unknown proxy config keys: epoch; known: tier, model"),
        (ProxyConfig, {"epochs": 0}, "proxy.epochs is 0; it must be > 0"),
        (ProxyConfig, {"lr": "fast"}, "proxy.lr is 'fast'; it must be a float"),
        (ProxyConfig, {"schedule": "linear"}, "proxy.schedule is 'linear'; use one of cosine, step"),
        (ProxyConfig, {"warmup": 1.5}, "proxy.warmup is 1.5; it must be in [0.0, 1.0)"),
        (ProxyConfig, {"hflip": 1}, "proxy.hflip is 1; it must be a bool"),
        (ProxyConfig, {"step_milestones": 0.8}, "proxy.step_milestones is 0.8; it must be a list"),
        (ProxyConfig, [], "proxy config must be a mapping, got list"),
        (DataConfig, {"kind": "voc"}, "data.kind is 'voc'; use one of synthetic, coco"),
        (DataConfig, {"val_images": "/v"}, "give both data.val_images and data.val_annotations, or neither"),
        (DataConfig, {"images": 3}, "data.images is 3; it must be a path (text)"),
        (DataConfig, {"heldout": 5}, "unknown data config keys: heldout"),
    ],
)
def test_bad_configs_are_named(cls, data, message):
    with pytest.raises(ConfigError) as err:
        cls.from_dict(data)
    assert message in str(err.value)


def test_ints_widen_and_model_nests():
    config = ProxyConfig.from_dict({"lr": 1, "model": {"head_num_convs": 2}, "step_milestones": [0.5, 0.75]})
    assert config.lr == 1.0 and isinstance(config.lr, float)
    assert config.model.head_num_convs == 2 and config.step_milestones == (0.5, 0.75)
    assert config.to_dict()["model"]["head_num_convs"] == 2 and config.to_dict()["step_milestones"] == [0.5, 0.75]


@pytest.mark.parametrize(
    "step, schedule, expected",
    [(0, "cosine", 0.1), (5, "cosine", 0.55), (10, "cosine", 1.0), (55, "cosine", 0.5), (100, "cosine", 0.0),
     (0, "step", 0.1), (10, "step", 1.0), (79, "step", 1.0), (80, "step", 0.1), (99, "step", 0.1)],
)
def test_lr_schedule_values(step, schedule, expected):
    factor = lr_factor(step, 100, warmup=0.1, warmup_factor=0.1, schedule=schedule, milestones=(0.8,), gamma=0.1)
    assert factor == pytest.approx(expected)
