"""Proxy training end to end on generated data: the smoke tier learns (AP50 above a floor
recorded from a real run), reports every epoch, is deterministic on CPU, returns a `TrialResult`
whose flat form keeps the keys `nas train` prints, and turns a NaN/inf loss into status nan_loss instead of an exception."""

from __future__ import annotations

import dataclasses
import os

import pytest
import yaml

from proxy_trainer.complexity import count_params_flops
from proxy_trainer.config import DataConfig, ProxyConfig
from proxy_trainer.train import train_and_evaluate
from search_space import BUILTIN_SPECS
from search_space.trial_result import DETECTION_METRICS as METRIC_KEYS
from search_space.trial_result import EpochReport, TrialStatus

SMOKE = os.path.join(os.path.dirname(__file__), "..", "..", "nas", "conf", "proxy", "smoke.yaml")
# The smoke tier's AP is tiny and its exact value depends on the CPU and the thread count (on
# one 2-core AMD EPYC, torch 2.14.1: AP50 0.00976 in one session, 0.0007 with 1 thread and 0.0034
# with 2 in another), so the test asks for what an untrained detector cannot do: any match at
# IoU 0.5 (untrained, no score clears the tier's 0.02 threshold and AP50 is 0.0).
AP50_FLOOR = 1e-4
RESULT_KEYS = {"status", "error", *METRIC_KEYS, "params", "flops", "train_seconds", "images_per_second", "epochs_done"}


def smoke_config(**changes) -> ProxyConfig:
    with open(SMOKE, encoding="utf-8") as handle:
        return dataclasses.replace(ProxyConfig.from_dict(yaml.safe_load(handle)), **changes)


@pytest.fixture(scope="module")
def data_cfg(tmp_path_factory):
    cache = str(tmp_path_factory.mktemp("cache"))
    return DataConfig(synth_images=48, synth_size=64, heldout_images=16, cache_dir=cache)


@pytest.fixture(scope="module")
def smoke_run(data_cfg):
    reports = []
    result = train_and_evaluate(BUILTIN_SPECS["spinenet-49"], smoke_config(), data_cfg, report=reports.append)
    return result, reports


def test_smoke_tier_learns(smoke_run):
    result, reports = smoke_run
    assert result.status == TrialStatus.OK and result.error is None and result.final
    assert result.metrics["ap50"] >= AP50_FLOOR
    assert reports[-1].loss < reports[0].loss


def test_report_after_each_epoch(smoke_run):
    result, reports = smoke_run
    assert [r.epoch for r in reports] == [1, 2, 3, 4, 5, 6]
    assert all(isinstance(r, EpochReport) and set(r.metrics) == set(METRIC_KEYS) for r in reports)
    assert dict(reports[-1].metrics) == dict(result.metrics) and result.epochs == tuple(reports)


def test_result_contract(smoke_run):
    result = smoke_run[0].flat()
    assert RESULT_KEYS <= set(result)
    assert result["epochs_done"] == 6 and result["train_seconds"] > 0 and result["images_per_second"] > 0
    config = smoke_config().model
    assert (result["params"], result["flops"]) == count_params_flops(
        BUILTIN_SPECS["spinenet-49"], config, num_classes=5, image_size=64)
    assert (result["train_images"], result["val_images"], result["num_classes"]) == (32, 16, 5)
    assert result["apl"] is None  # no object reaches 96^2 px at 64 px: COCOeval's -1 is missing, not 0


def test_same_seed_same_numbers(data_cfg):
    runs = [train_and_evaluate(BUILTIN_SPECS["spinenet-49"], smoke_config(epochs=1), data_cfg) for _ in range(2)]
    assert (runs[0].loss, runs[0].metrics) == (runs[1].loss, runs[1].metrics)


def test_nan_loss_stops_with_a_reason(data_cfg):
    result = train_and_evaluate(BUILTIN_SPECS["spinenet-49"], smoke_config(epochs=2, lr=1e30, grad_clip=0.0, warmup=0.0),
                                data_cfg, report=lambda m: pytest.fail("no epoch finished")).flat()
    assert result["status"] == "nan_loss"
    assert result["error"].startswith("loss is ") and "at epoch 1 step" in result["error"]
    assert result["epochs_done"] == 0 and all(result[k] is None for k in METRIC_KEYS)
