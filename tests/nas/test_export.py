"""`nas export`: golden files for spinenet-49 in every format, and round trips
(export -> load -> the same spec; for torch also the same parameter count and tensor shapes)."""

import os

import pytest

from nas.cli import main
from search_space import BUILTIN_SPECS, from_tf_text, load_spec

GOLDEN = os.path.join(os.path.dirname(__file__), "golden")
SP49 = BUILTIN_SPECS["spinenet-49"]

# (file in tests/nas/golden, extra CLI arguments)
GOLDEN_EXPORTS = {
    "spinenet-49.json": ["--format", "json"],
    "spinenet-49.tf.py": ["--format", "tf", "--model", "49"],
    "spinenet-49.torch.json": ["--format", "torch", "--model", "49"],
    "spinenet-49S.torch.json": ["--format", "torch", "--model", "49S"],
}


def same_architecture(a, b):
    return (a.stem, a.blocks, a.min_level, a.max_level) == (b.stem, b.blocks, b.min_level, b.max_level)


@pytest.mark.parametrize("golden", sorted(GOLDEN_EXPORTS))
def test_export_matches_golden_file(tmp_path, golden):
    out = tmp_path / golden
    assert main(["export", "spinenet-49", *GOLDEN_EXPORTS[golden], "-o", str(out)]) == 0
    with open(os.path.join(GOLDEN, golden), encoding="utf-8") as handle:
        assert out.read_text() == handle.read()


def test_tf_golden_is_the_official_list():
    with open(os.path.join(GOLDEN, "spinenet-49.tf.py"), encoding="utf-8") as handle:
        text = handle.read()
    assert "    (7, 'bottleneck', (5, 14), True),\n    (6, 'bottleneck', (12, 14), True),\n]" in text
    assert "SCALING_MAP['49'] = {'endpoints_num_filters': 256, 'filter_size_scale': 1.0, 'resample_alpha': 0.5, " \
           "'block_repeats': 1}" in text
    assert same_architecture(from_tf_text(text), SP49)


@pytest.mark.parametrize("name", sorted(BUILTIN_SPECS))
@pytest.mark.parametrize("fmt", ["json", "tf"])
def test_text_round_trip(tmp_path, name, fmt):
    out = tmp_path / f"spec.{fmt}"
    assert main(["export", name, "--format", fmt, "-o", str(out)]) == 0
    loaded = load_spec(str(out))
    assert same_architecture(loaded, BUILTIN_SPECS[name])
    if fmt == "json":
        assert loaded == BUILTIN_SPECS[name]


def test_stdout_export(capsys):
    assert main(["export", "r0-sp53", "--format", "tf"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("# r0-sp53") and out.count("'bottleneck'") == 15


@pytest.mark.parametrize("model", ["49S", "49"])
def test_torch_round_trip_same_spec_and_params(tmp_path, model):
    from proxy_trainer.modeling import torch_export
    out = tmp_path / "sp49.torch.json"
    assert main(["export", "spinenet-49", "--format", "torch", "--model", model, "-o", str(out)]) == 0
    spec, stored_model = torch_export.load_torch_spec(out)
    assert (spec, stored_model) == (SP49, model)
    loaded = torch_export.build_spinenet(str(out))
    direct = torch_export.build_spinenet(SP49, model)
    shapes = {k: tuple(v.shape) for k, v in loaded.state_dict().items()}
    assert shapes == {k: tuple(v.shape) for k, v in direct.state_dict().items()}
    count = sum(p.numel() for p in loaded.parameters())
    assert count == sum(p.numel() for p in direct.parameters())
    assert count > 5_000_000


@pytest.mark.parametrize("argv, fragment", [
    (["export", "spinenet-49", "--format", "torch"], "--format torch writes a file; give -o PATH"),
    (["export", "spinenet-49", "--format", "torch", "-o", "{tmp}"], "is a directory"),
    (["export", "spinenet-49", "-o", "{tmp}/missing/x.json"], "cannot write"),
    (["export", "spinenet-49", "--format", "torch", "-o", "{tmp}/missing/x.json"], "cannot write"),
    (["export", "{tmp}/bad.json"], "is not valid JSON"),
    (["export", "{tmp}/run:best"], "does not exist"),
    (["export", "{tmp}", "--top", "2"], "has no search.db"),
    (["export", "r50-fpn"], "baseline model, not a spec"),
])
def test_bad_input_is_one_line_exit_2(capsys, tmp_path, argv, fragment):
    (tmp_path / "bad.json").write_text("{oops")
    code = main([a.replace("{tmp}", str(tmp_path)) for a in argv])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and err.startswith("nas export: error: ")
    assert fragment in err


def test_help_has_examples(capsys):
    with pytest.raises(SystemExit) as info:
        main(["export", "--help"])
    assert info.value.code == 0
    text = capsys.readouterr().out
    assert "nas export spinenet-49 --format tf" in text and "--top 3 --format torch" in text


def test_readme_example_plugs_into_torchvision_retinanet():
    import torch
    from torchvision.models.detection import RetinaNet

    from proxy_trainer.modeling.torch_export import build_spinenet

    # the README's three lines, with a small input size to stay fast
    model = RetinaNet(build_spinenet(os.path.join(GOLDEN, "spinenet-49S.torch.json")), num_classes=91,
                      min_size=128, max_size=128)
    model.eval()
    torch.manual_seed(0)
    with torch.no_grad():
        (detections,) = model([torch.rand(3, 128, 128)])
    assert set(detections) == {"boxes", "scores", "labels"} and detections["boxes"].shape[1] == 4
    assert model.backbone.out_channels == 128  # 49S endpoints
