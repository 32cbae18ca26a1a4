"""Precise BN: re-estimating BN statistics changes what the detector predicts in eval mode,
never its trained weights; the statistics are the plain average over the batches fed; momenta and
eval mode are restored; a run with it on trains exactly as one with it off."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from proxy_trainer.config import ConfigError, DataConfig
from proxy_trainer.data.prepare import prepare_data
from proxy_trainer.precise_bn import batch_norms, recompute_bn_statistics
from proxy_trainer.train import make_loaders, prepare_model, train_and_evaluate
from search_space import BUILTIN_SPECS
from tests.proxy_trainer.test_train import smoke_config

CPU = torch.device("cpu")


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    data_cfg = DataConfig(synth_images=24, synth_size=64, heldout_images=8, cache_dir=str(tmp_path_factory.mktemp("c")))
    cfg = smoke_config()
    data = prepare_data(data_cfg)
    model = prepare_model(BUILTIN_SPECS["spinenet-49"], cfg, data.train.num_classes, CPU)
    return model, make_loaders(data, cfg, data_cfg, CPU), data_cfg


def _eval_outputs(model, loaders):
    model.eval()
    images, _, _ = next(iter(loaders.val))
    with torch.no_grad():
        features = model.backbone(model.transform(images)[0].tensors)
    return torch.cat([f.flatten() for f in features.values()])


def test_changes_eval_outputs_and_leaves_weights_untouched(setup):
    model, loaders, _ = setup
    weights = {k: v.clone() for k, v in model.named_parameters()}
    before = _eval_outputs(model, loaders)
    momenta = [bn.momentum for bn in batch_norms(model)]
    used = recompute_bn_statistics(model, loaders.statistics, 2, CPU)
    after = _eval_outputs(model, loaders)
    assert used == 2 and not model.training
    assert not torch.allclose(before, after)
    assert all(torch.equal(weights[k], v) for k, v in model.named_parameters())
    assert [bn.momentum for bn in batch_norms(model)] == momenta == [0.01] * len(momenta)
    assert all(int(bn.num_batches_tracked) == 2 for bn in batch_norms(model))


def test_statistics_are_the_average_over_the_batches(setup):
    model, loaders, _ = setup
    first = batch_norms(model)[0]  # the stem's BN: its input depends on the images only
    seen = []
    hook = first.register_forward_hook(lambda m, inp, out: seen.append(inp[0].mean(dim=(0, 2, 3))))
    recompute_bn_statistics(model, loaders.statistics, 2, CPU)  # the loader's two batches of 8
    hook.remove()
    assert len(seen) == 2
    torch.testing.assert_close(first.running_mean, torch.stack(seen).mean(dim=0))


def test_more_batches_than_the_loader_has_uses_them_all_and_zero_is_off(setup):
    model, loaders, _ = setup
    assert recompute_bn_statistics(model, loaders.statistics, 1000, CPU) == len(loaders.statistics) == 2
    mean = batch_norms(model)[0].running_mean.clone()
    assert recompute_bn_statistics(model, loaders.statistics, 0, CPU) == 0
    assert torch.equal(batch_norms(model)[0].running_mean, mean)


def test_a_run_with_precise_bn_trains_the_same_weights(setup):
    _, _, data_cfg = setup
    states = []
    for batches in (0, 2):
        cfg = smoke_config(epochs=2, precise_bn_batches=batches)
        keep = lambda model, loaders, data, epoch, cfg=cfg: _keep(states, model, loaders, data, cfg, epoch)
        train_and_evaluate(BUILTIN_SPECS["spinenet-49"], cfg, data_cfg, evaluator=keep)
    plain, precise = states
    assert all(torch.equal(plain[k], precise[k]) for k, _ in _parameters(plain))


def _keep(states, model, loaders, data, cfg, epoch):
    from proxy_trainer.train import evaluate_model

    metrics = evaluate_model(model, loaders, data, cfg, CPU)
    if epoch == cfg.epochs:
        states.append({k: v.clone() for k, v in model.state_dict().items()})
    return metrics


def _parameters(state):
    return [(k, v) for k, v in state.items() if not k.endswith(("running_mean", "running_var", "num_batches_tracked"))]


def test_config_rejects_negative_batches():
    with pytest.raises(ConfigError, match="precise_bn_batches"):
        dataclasses.replace(smoke_config(), precise_bn_batches=-1)


def test_last_only_re_estimates_at_the_last_epoch_alone(setup, monkeypatch):
    from proxy_trainer import train

    _, _, data_cfg = setup
    calls = []
    real = train.recompute_bn_statistics
    monkeypatch.setattr(train, "recompute_bn_statistics", lambda *a: calls.append(a[2]) or real(*a))
    for mode in ("every", "last"):
        calls.clear()
        train_and_evaluate(BUILTIN_SPECS["r0-sp53"], smoke_config(epochs=3, precise_bn_batches=2,
                                                                  precise_bn_epochs=mode), data_cfg)
        assert calls == ([2, 2, 2] if mode == "every" else [2])
    with pytest.raises(ConfigError, match="precise_bn_epochs"):
        dataclasses.replace(smoke_config(), precise_bn_epochs="first")
