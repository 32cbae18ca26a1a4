"""SpineNet backbone: every built-in and 200 seeded random specs build, run forward and backward
with the right level shapes and finite gradients; resampling and the output-merge rule follow the
TPU code; compile, channels_last, determinism and the torch spec file."""

from __future__ import annotations

import json
from itertools import pairwise

import pytest
import torch
from torch import nn

from proxy_trainer.modeling.layers import LevelShape
from proxy_trainer.modeling.spinenet import SpineNet
from proxy_trainer.modeling.torch_export import FORMAT_TAG, build_spinenet, save_torch_spec
from search_space import BUILTIN_SPECS, ArchSpec, BlockSpec, SearchSpace, get_builtin
from search_space.ablations import DAMAGES, damage_connections
from search_space.errors import UserInputError

TINY = {"filter_size_scale": 0.0625, "endpoints_num_filters": 8}  # L2 C=4 ... L7 C=16
SIZE = 128  # smallest square input whose L7 is 1x1
BATCH = 2  # BatchNorm in training mode needs more than one value per channel at 1x1 (L7)
RANDOM_SPACE = SearchSpace.from_seed("resnet50")
LONG_STEM_SEEDS = ("r35-sp18", "r23-sp30", "r14-sp39")
B, R = "bottleneck", "residual"
# Small enough to compile quickly; L2->L7 resampling (k5 max-pool) and one implicit merge (2 -> 4).
MINI_SPEC = ArchSpec("mini", (
    BlockSpec(3, B, (0, 1)), BlockSpec(4, R, (0, 1), True), BlockSpec(3, B, (0, 3), True),
    BlockSpec(5, B, (3, 4), True), BlockSpec(7, R, (0, 5), True), BlockSpec(6, B, (4, 6), True),
))


def check_forward_backward(model: SpineNet, size: int = SIZE) -> None:
    """Every level has shape [N, C, H/2^l, W/2^l]; the loss has finite grads everywhere."""
    torch.manual_seed(0)
    images = torch.randn(BATCH, 3, size, size)
    outputs = model(images)
    assert list(outputs) == [str(lv) for lv in range(3, 8)]
    for level, feature in outputs.items():
        side = size // 2 ** int(level)
        assert feature.shape == (BATCH, model.out_channels, side, side)
    sum(f.square().mean() for f in outputs.values()).backward()
    grads = [p.grad for p in model.parameters()]
    assert all(g is not None for g in grads), "every built module reaches an output"
    assert all(torch.isfinite(g).all() for g in grads) and any(g.abs().sum() > 0 for g in grads)
    live = live_features(model)  # the blocks built are exactly those with a path to an output (as TF)
    assert {model.spec.num_stem + int(k) for k in model.blocks} == {f for f in live if f >= model.spec.num_stem}
    assert len(model.stem_blocks) == 1 + max(f for f in live if f < model.spec.num_stem)


def live_features(model: SpineNet) -> set[int]:
    """Features that some output depends on, through parents and implicit merges."""
    spec, todo, live = model.spec, list(model.output_features.values()), set()
    while todo:
        f = todo.pop()
        if f in live:
            continue
        live.add(f)
        if f >= spec.num_stem:
            todo += list(spec.live_inputs(f - spec.num_stem)) + list(model.merges.get(f, ()))
    return live


@pytest.mark.parametrize("name", [*sorted(BUILTIN_SPECS), "mini"])
@pytest.mark.parametrize("repeats,alpha", [(1, 0.5), (2, 1.0)])
def test_builtin_specs_forward_backward(name, repeats, alpha):
    spec = MINI_SPEC if name == "mini" else get_builtin(name)
    model = SpineNet(spec, block_repeats=repeats, resample_alpha=alpha, **TINY)
    check_forward_backward(model)


@pytest.mark.parametrize("damage", DAMAGES)
def test_damaged_specs_forward_backward_with_one_resampling_per_block(damage):
    model = SpineNet(damage_connections(get_builtin("r0-sp53"), damage), **TINY)
    assert [len(r) for r in model.resamples.values()] == [1] * len(model.resamples)
    check_forward_backward(model)


@pytest.mark.parametrize("k", range(200))
def test_random_specs_forward_backward(k):
    spec = RANDOM_SPACE.sample_spec(seed=7, k=k)
    check_forward_backward(SpineNet(spec, **TINY))


@pytest.mark.parametrize("seed_name", LONG_STEM_SEEDS)
def test_long_stem_specs_forward_backward(seed_name):
    space = SearchSpace.from_seed(seed_name)
    spec = space.sample_spec(seed=3, k=0)
    model = SpineNet(spec, **TINY)
    assert len(model.stem_blocks) == spec.num_stem
    check_forward_backward(model)


def test_long_stem_is_a_scale_decreased_chain():
    spec = SearchSpace.from_seed("r35-sp18").sample_spec(seed=0, k=0)
    model = SpineNet(spec, filter_size_scale=1.0)
    strides = [group[0].branch[1][0].stride[0] for group in model.stem_blocks]
    levels = [2] + [level for level, _ in spec.stem]
    assert strides == [2 ** (b - a) for a, b in pairwise(levels)]
    assert [group.out_channels for group in model.stem_blocks][-1] == 4 * 256  # L5 bottleneck: 4C


def test_spinenet49_merges_only_feature_11_into_the_l5_output():
    model = SpineNet(get_builtin("spinenet-49"), **TINY)
    assert model.merges == {12: (), 13: (), 14: (11,), 15: (), 16: ()}


def test_merged_feature_is_added_before_the_activation():
    model = SpineNet(get_builtin("spinenet-49"), **TINY).eval()
    seen = {}
    model.resamples["12"][0].register_forward_hook(lambda m, i, o: seen.__setitem__("r0", o))
    model.resamples["12"][1].register_forward_hook(lambda m, i, o: seen.__setitem__("r1", o))
    model.blocks["9"].register_forward_hook(lambda m, i, o: seen.__setitem__("f11", o))
    model.blocks["12"].register_forward_pre_hook(lambda m, i: seen.__setitem__("fused", i[0]))
    with torch.no_grad():
        model(torch.randn(1, 3, SIZE, SIZE))
    expected = torch.relu(seen["r0"] + seen["r1"] + seen["f11"])
    assert torch.equal(seen["fused"], expected)
    assert not torch.equal(seen["fused"], torch.relu(seen["r0"] + seen["r1"]))


def _layers(module: nn.Module) -> list[str]:
    return [type(m).__name__ for m in module.modules() if isinstance(m, (nn.Conv2d, nn.MaxPool2d))]


def test_resampling_matches_the_tpu_code():
    model = SpineNet(get_builtin("spinenet-49"))  # full width, alpha 0.5
    # block 0 (feature 2, L2 bottleneck) from stem feature 0 (L2 bottleneck, 256 ch): 1x1 to 32, 1x1 to 256
    first = model.resamples["0"][0]
    assert (first.squeeze[0].in_channels, first.squeeze[0].out_channels) == (256, 32)
    assert isinstance(first.down, nn.Identity) and first.expand[0].out_channels == 256
    assert len(first.expand) == 2  # conv + BN, no activation
    # block 1 (feature 3, L4 residual) from feature 0 (L2): 3x3/2 conv, then max-pool k3 s2
    down = model.resamples["1"][0].down
    assert down[0][0].stride == (2, 2) and (down[1].kernel_size, down[1].stride) == (3, 2)
    # block 7 (feature 9, L7 residual) from feature 6 (L6 residual, C=256): 1x1 to 128, 3x3/2, no pool
    to_l7 = model.resamples["7"][0]
    assert to_l7.squeeze[0].out_channels == 128 and _layers(to_l7.down) == ["Conv2d"]
    # block 13 (feature 15, L7 bottleneck) from feature 5 (L4): conv /2, then max-pool k5 s4
    far = model.resamples["13"][0].down
    assert (far[1].kernel_size, far[1].stride) == (5, 4)
    assert model.resamples["13"][0].expand[0].out_channels == 1024


def test_model_gardens_chain_of_max_pools_is_an_option():
    from proxy_trainer.modeling.resample import Resample

    norm = {"alpha": 0.5, "activation": "relu", "bn_momentum": 0.01}
    for gap, single, chain in ((1, [], []), (2, [(3, 2)], [(3, 2)]), (3, [(5, 4)], [(3, 2)] * 2), (5, [(5, 16)], [(3, 2)] * 4)):
        pools = {}
        for form in ("single", "chain"):
            resample = Resample(64, 64, 2, 2 + gap, 64, pool=form, **norm)
            pools[form] = [(m.kernel_size, m.stride) for m in resample.modules() if isinstance(m, nn.MaxPool2d)]
        assert (pools["single"], pools["chain"]) == (single, chain)
    torch.manual_seed(0)
    single = SpineNet(get_builtin("spinenet-49"), **TINY).eval()
    chained = SpineNet(get_builtin("spinenet-49"), downsample_pool="chain", **TINY).eval()
    chained.load_state_dict(single.state_dict())  # pooling has no parameters: the same weights fit
    images = torch.randn(1, 3, SIZE, SIZE)
    with torch.no_grad():
        a, b = single(images), chained(images)
    assert all(a[k].shape == b[k].shape for k in a) and not torch.equal(a["7"], b["7"])  # L4 -> L7: gap 3
    with pytest.raises(UserInputError, match="downsample pool 'many' is unknown; use one of single, chain"):
        SpineNet(get_builtin("spinenet-49"), downsample_pool="many", **TINY)


@pytest.mark.parametrize("size", [100, 97])
def test_odd_input_sizes_give_ceil_level_sizes(size):
    model = SpineNet(MINI_SPEC, **TINY).eval()
    with torch.no_grad():
        outputs = model(torch.randn(1, 3, size, size + 32))
    assert {k: tuple(v.shape[-2:]) for k, v in outputs.items()} == {
        str(lv): (-(-size // 2**lv), -(-(size + 32) // 2**lv)) for lv in range(3, 8)
    }


def test_output_shape_declares_channels_and_strides():
    model = SpineNet(get_builtin("spinenet-49"), **TINY)
    assert model.output_shape() == {lv: LevelShape(8, 2**lv) for lv in range(3, 8)}


def test_missing_output_level_is_a_user_error():
    with pytest.raises(UserInputError, match=r"no output block at level\(s\) \[2\]"):
        SpineNet(get_builtin("spinenet-49"), min_level=2, **TINY)


def test_deterministic_under_a_fixed_seed():
    outputs = []
    for _ in range(2):
        torch.manual_seed(123)
        model = SpineNet(get_builtin("r0-sp53"), **TINY)
        torch.manual_seed(5)
        outputs.append(model(torch.randn(BATCH, 3, SIZE, SIZE)))
    assert all(torch.equal(a, b) for a, b in zip(outputs[0].values(), outputs[1].values()))


def test_channels_last_and_compile_match_eager():
    torch.manual_seed(0)
    model = SpineNet(MINI_SPEC, **TINY).eval()
    assert model.merges == {3: (), 4: (2,), 5: (), 6: (), 7: ()}
    images = torch.randn(1, 3, SIZE, SIZE)
    with torch.no_grad():
        eager = model(images)
        model = model.to(memory_format=torch.channels_last)
        last = model(images.to(memory_format=torch.channels_last))
        compiled = torch.compile(model, backend="aot_eager")(images.to(memory_format=torch.channels_last))
    for level in eager:
        torch.testing.assert_close(last[level], eager[level], rtol=1e-4, atol=1e-5)
        torch.testing.assert_close(compiled[level], eager[level], rtol=1e-4, atol=1e-5)


def test_torch_spec_file_round_trip(tmp_path):
    path = tmp_path / "spinenet.json"
    spec = get_builtin("spinenet-49")
    save_torch_spec(path, spec, "49S")
    data = json.loads(path.read_text())
    assert data["format"] == FORMAT_TAG and data["model"] == "49S"
    assert data["scaling"]["endpoints_num_filters"] == 128 and data["spec"]["blocks"][0]["inputs"] == [0, 1]
    model = build_spinenet(path)
    assert model.spec == spec and model.out_channels == 128
    assert build_spinenet(path, model="49").out_channels == 256


@pytest.mark.parametrize("text", ["not json", json.dumps({"format": "other"}), json.dumps([1, 2])])
def test_bad_torch_spec_file_is_a_user_error(tmp_path, text):
    path = tmp_path / "bad.json"
    path.write_text(text)
    with pytest.raises(UserInputError):
        build_spinenet(path)


def test_torch_spec_unknown_model_is_a_user_error(tmp_path):
    with pytest.raises(UserInputError, match="unknown SpineNet model"):
        save_torch_spec(tmp_path / "x.json", get_builtin("spinenet-49"), "12")
