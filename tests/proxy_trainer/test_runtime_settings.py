"""Runtime settings (`proxy_trainer/runtime.py`): `auto` resolves to the trainer's behaviour before
the settings existed, explicit values are applied or refused with one line, settings hashes
recorded before them are kept, persistent workers change no batch, and the `coco512` tier's
settings (bf16 autocast, channels_last, two persistent workers) are applied in a tiny CPU run."""

from __future__ import annotations

import itertools
import os

import pytest
import torch
import yaml
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from nas.config import TRAIN_FILE, load_proxy_and_data
from proxy_trainer import train as train_module
from proxy_trainer.config import ConfigError, DataConfig, ProxyConfig
from proxy_trainer.provenance import settings_hash
from proxy_trainer.runtime import OrderKeepingLoader, RuntimeSettings
from search_space import BUILTIN_SPECS
from search_space.trial_result import TrialStatus

pytestmark = pytest.mark.usefixtures("one_thread")

CPU, CUDA = torch.device("cpu"), torch.device("cuda")  # a CUDA device object needs no GPU
NEW_KEYS = ("amp", "channels_last", "pin_memory", "persistent_workers")
COCO512 = os.path.join(os.path.dirname(__file__), "..", "..", "nas", "conf", "proxy", "coco512.yaml")
# settings_hash values computed at commit e661800, before the runtime settings existed
RECORDED_DEFAULT_HASH = "9be9f220b71a4b13"  # ProxyConfig(), DataConfig()
RECORDED_COCO512_HASH = "3e5001a990a7278d"  # the coco512 tier file, DataConfig()


def _resolved(runtime: RuntimeSettings) -> tuple:
    return runtime.amp, runtime.channels_last, runtime.pin_memory, runtime.num_workers, runtime.persistent_workers


def test_auto_is_what_the_trainer_did_before():
    assert _resolved(RuntimeSettings.resolve(ProxyConfig(), DataConfig(), CPU)) == (None, False, False, 0, False)
    assert _resolved(RuntimeSettings.resolve(ProxyConfig(), DataConfig(num_workers=4), CPU)) == (None, False, False, 4,
                                                                                                 True)
    assert _resolved(RuntimeSettings.resolve(ProxyConfig(), None, CUDA)) == (torch.bfloat16, True, True, 0, False)


@pytest.mark.parametrize(
    "proxy, data, device, expected",
    [
        ({"amp": "fp32", "channels_last": False}, {"pin_memory": False, "persistent_workers": False, "num_workers": 2},
         CUDA, (None, False, False, 2, False)),
        ({"amp": "fp16"}, {"num_workers": 2}, CUDA, (torch.float16, True, True, 2, True)),
        ({"amp": "bf16", "channels_last": True}, {"num_workers": 2}, CPU, (torch.bfloat16, True, False, 2, True)),
        # true pins only where there is a GPU to copy to, and keeps workers only where there are some
        ({}, {"pin_memory": True, "persistent_workers": True}, CPU, (None, False, False, 0, False)),
    ],
)
def test_explicit_settings(proxy, data, device, expected):
    proxy_cfg, data_cfg = ProxyConfig.from_dict(proxy), DataConfig.from_dict(data)
    assert _resolved(RuntimeSettings.resolve(proxy_cfg, data_cfg, device)) == expected
    assert ProxyConfig.from_dict(proxy_cfg.to_dict()) == proxy_cfg and DataConfig.from_dict(data_cfg.to_dict()) == data_cfg


def test_fp16_autocast_needs_cuda():
    with pytest.raises(ConfigError, match=r"^proxy.amp is fp16 but proxy.device is cpu; fp16 autocast needs CUDA"):
        ProxyConfig(amp="fp16", device="cpu")
    with pytest.raises(ConfigError, match=r"^proxy.amp is fp16 but the device is cpu; fp16 autocast needs CUDA"):
        RuntimeSettings.resolve(ProxyConfig(amp="fp16"), None, CPU)  # device auto, and no GPU found


@pytest.mark.parametrize(
    "cls, data, message",
    [
        (ProxyConfig, {"amp": "fp8"}, "proxy.amp is 'fp8'; use one of auto, fp32, bf16, fp16"),
        (ProxyConfig, {"amp": False}, "proxy.amp is False; use one of auto, fp32, bf16, fp16 (fp32 for no autocast)"),
        (ProxyConfig, {"channels_last": "yes"}, "proxy.channels_last is 'yes'; use one of auto, true, false"),
        (ProxyConfig, {"channels_last": 1}, "proxy.channels_last is 1; use one of auto, true, false"),
        (ProxyConfig, {"device": 3}, "proxy.device is 3; use one of auto, cpu, cuda"),
        (DataConfig, {"pin_memory": "on"}, "data.pin_memory is 'on'; use one of auto, true, false"),
        (DataConfig, {"persistent_workers": 0}, "data.persistent_workers is 0; use one of auto, true, false"),
    ],
)
def test_bad_values_name_the_key_and_the_choices(cls, data, message):
    with pytest.raises(ConfigError) as err:
        cls.from_dict(data)
    assert str(err.value) == message


def _without_new_keys(settings: dict) -> dict:
    return {k: v for k, v in settings.items() if k not in NEW_KEYS}


def test_trainings_recorded_before_the_settings_keep_their_hashes():
    proxy, data = ProxyConfig().to_dict(), DataConfig().to_dict()
    assert set(NEW_KEYS) <= set(proxy) | set(data)
    assert settings_hash(proxy, data) == settings_hash(_without_new_keys(proxy), _without_new_keys(data))
    assert settings_hash(proxy, data) == RECORDED_DEFAULT_HASH
    with open(COCO512, encoding="utf-8") as handle:
        tier = {k: v for k, v in yaml.safe_load(handle).items() if k != "defaults"}
    coco512 = ProxyConfig.from_dict(tier)
    assert (coco512.amp, coco512.channels_last) == ("bf16", True)
    assert settings_hash(coco512.to_dict(), data) == RECORDED_COCO512_HASH
    gpu_loader = DataConfig(num_workers=8, pin_memory=True, persistent_workers=False).to_dict()
    assert settings_hash({**coco512.to_dict(), "amp": "fp32"}, gpu_loader) == RECORDED_COCO512_HASH


def _rounds(loader_class, **options) -> list:
    """Three epochs of a shuffled loader, a partial pass of a second one (precise BN's) and a full
    pass of an unshuffled one (the reward set's), each followed by a draw from the global stream."""
    dataset = TensorDataset(torch.arange(10))
    train = loader_class(dataset, batch_size=3, shuffle=True, generator=torch.Generator().manual_seed(0), **options)
    statistics = loader_class(dataset, batch_size=2, shuffle=True, generator=torch.Generator().manual_seed(2),
                              **options)
    val = loader_class(dataset, batch_size=4, **options)
    torch.manual_seed(0)
    seen = []
    for _ in range(3):
        seen.append([batch[0].tolist() for batch in train])
        seen.append([batch[0].tolist() for batch in itertools.islice(statistics, 1)])
        seen.append([batch[0].tolist() for batch in val])
        seen.append(torch.rand(()).item())
    return seen


def test_persistent_workers_change_no_batch_and_no_random_stream():
    plain = _rounds(OrderKeepingLoader)
    assert plain == _rounds(DataLoader)  # the same loader as torch's without persistent workers
    assert _rounds(OrderKeepingLoader, num_workers=2, persistent_workers=True) == plain
    # torch's own loader with persistent workers shuffles differently from the second epoch on
    assert _rounds(DataLoader, num_workers=2, persistent_workers=True) != plain


def test_the_coco512_tier_applies_its_runtime_settings_on_cpu(tmp_path, monkeypatch):
    """The coco512 tier's code path at 128 px for 2 epochs on 12 synthetic training images, on the
    CPU with its bf16 autocast and channels_last, and two persistent loader workers. Not at 64 px:
    there SpineNet's L6 is 1x1, and torch 2.14's CPU bf16 backward of a 3x3 stride-2 conv on a 1x1
    input returns garbage weight gradients (NaN losses at random; runtime.py)."""
    proxy, data = load_proxy_and_data(
        ["proxy=coco512", "proxy.device=cpu", "proxy.image_size=128", "proxy.epochs=2", "proxy.batch_size=4",
         "data.num_workers=2", "data.synth_images=16", "data.synth_size=128", "data.heldout_images=4",
         f"data.cache_dir={tmp_path}"], TRAIN_FILE)
    assert (proxy.amp, proxy.channels_last, data.pin_memory, data.persistent_workers) == ("bf16", True, True, True)
    seen: dict = {"conv_dtypes": set(), "inputs_channels_last": [], "epochs": []}
    real_prepare_model = train_module.prepare_model

    def recording_prepare_model(*args, **kwargs):
        model = real_prepare_model(*args, **kwargs)
        conv = next(m for m in model.backbone.modules() if isinstance(m, nn.Conv2d))
        conv.register_forward_hook(lambda module, inputs, output: seen["conv_dtypes"].add(output.dtype))
        model.backbone.register_forward_pre_hook(
            lambda module, args: seen["inputs_channels_last"].append(
                args[0].is_contiguous(memory_format=torch.channels_last)))
        return model

    def evaluator(model, loaders, prepared, epoch):
        convs = [m.weight for m in model.modules() if isinstance(m, nn.Conv2d)]
        seen["epochs"].append({
            "weights_channels_last": all(w.is_contiguous(memory_format=torch.channels_last) for w in convs),
            "loaders": [(loader.num_workers, loader.persistent_workers, loader.pin_memory) for loader in loaders],
            "train_workers": [worker.pid for worker in loaders.train._iterator._workers],
        })
        return {}

    monkeypatch.setattr(train_module, "prepare_model", recording_prepare_model)
    result = train_module.train_and_evaluate(BUILTIN_SPECS["spinenet-49"], proxy, data, evaluator=evaluator)
    assert result.status == TrialStatus.OK and result.epochs_done == 2
    assert seen["conv_dtypes"] == {torch.bfloat16}  # autocast inside the training forward
    assert len(seen["inputs_channels_last"]) == 6 and all(seen["inputs_channels_last"])  # 3 steps x 2 epochs
    first, second = seen["epochs"]
    assert first["weights_channels_last"] and second["weights_channels_last"]
    runtime = RuntimeSettings.resolve(proxy, data, CPU)
    assert first["loaders"] == [(2, True, runtime.pin_memory)] * 3 and runtime.pin_memory is False  # no GPU to pin for
    assert second["train_workers"] == first["train_workers"] and len(first["train_workers"]) == 2  # kept, not restarted
