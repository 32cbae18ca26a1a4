"""`nas export SOURCE --format torch --task classification`: the file gains the task and the
head, `build_spinenet_classifier` builds it back (the same spec, scaling and classes), backbone
exports stay as they were, and combinations that mean nothing are one line with exit code 2."""

from __future__ import annotations

import json
import os

import pytest

from nas.cli import main
from search_space import BUILTIN_SPECS

GOLDEN = os.path.join(os.path.dirname(__file__), "golden")


pytestmark = pytest.mark.usefixtures("one_thread")


def test_round_trip_through_the_builder(tmp_path):
    from proxy_trainer.modeling.torch_export import build_spinenet_classifier, read_torch_spec

    out = tmp_path / "r0.torch.json"
    argv = ["export", "r0-sp53", "--format", "torch", "--task", "classification", "--model", "49S",
            "--num-classes", "5", "-o", str(out)]
    assert main(argv) == 0
    stored = json.loads(out.read_text())
    assert {k: stored[k] for k in ("task", "num_classes", "dropout", "head_conv")} == {
        "task": "classification", "num_classes": 5, "dropout": 0.0, "head_conv": False}
    read = read_torch_spec(out)
    assert (read.spec, read.model) == (BUILTIN_SPECS["r0-sp53"], "49S")
    model = build_spinenet_classifier(str(out))
    assert model.backbone.spec == BUILTIN_SPECS["r0-sp53"] and model.backbone.out_channels == 128
    assert model.head.logits.out_features == 5


def test_default_classes_are_imagenets_and_the_backbone_part_is_the_backbone_export(tmp_path):
    classifier, backbone = tmp_path / "cls.torch.json", tmp_path / "backbone.torch.json"
    assert main(["export", "spinenet-49", "--format", "torch", "--task", "classification", "-o", str(classifier)]) == 0
    assert main(["export", "spinenet-49", "--format", "torch", "--task", "detection", "-o", str(backbone)]) == 0
    stored = json.loads(classifier.read_text())
    assert stored.pop("task") == "classification" and stored.pop("num_classes") == 1000
    del stored["dropout"], stored["head_conv"]
    assert stored == json.loads(backbone.read_text())
    with open(os.path.join(GOLDEN, "spinenet-49.torch.json"), encoding="utf-8") as handle:
        assert backbone.read_text() == handle.read()  # --task detection is the default, byte for byte


@pytest.mark.parametrize("argv, fragment", [
    (["export", "spinenet-49", "--task", "classification"], "use --format torch, not json"),
    (["export", "spinenet-49", "--format", "tf", "--task", "classification"], "use --format torch, not tf"),
    (["export", "spinenet-49", "--format", "torch", "--num-classes", "10", "-o", "{tmp}/x.json"],
     "add --task classification"),
    (["export", "spinenet-49", "--format", "torch", "--task", "classification"], "give -o PATH"),
    (["export", "spinenet-49", "--format", "torch", "--task", "classification", "--num-classes", "0",
      "-o", "{tmp}/x.json"], "'0' is not a positive integer"),
])
def test_bad_combinations_are_one_line_and_exit_2(capsys, tmp_path, argv, fragment):
    try:
        code = main([a.replace("{tmp}", str(tmp_path)) for a in argv])
    except SystemExit as stop:  # argparse rejects bad option values itself
        code = stop.code
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and fragment in err
    assert not (tmp_path / "x.json").exists()


def test_help_shows_the_classifier_export(capsys):
    with pytest.raises(SystemExit):
        main(["export", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "--task classification" in text and "build_spinenet_classifier(path)" in text


def test_readme_lines_build_a_working_classifier(tmp_path):
    import torch

    from proxy_trainer.modeling.torch_export import build_spinenet_classifier

    # the README's export and builder lines, at 49S and a small input size to stay fast
    path = tmp_path / "sp49_cls.torch.json"
    assert main(["export", "spinenet-49", "--format", "torch", "--task", "classification", "--model", "49S",
                 "-o", str(path)]) == 0
    model = build_spinenet_classifier(str(path)).eval()
    torch.manual_seed(0)
    with torch.no_grad():
        logits = model(torch.randn(2, 3, 64, 64))
    assert logits.shape == (2, 1000) and torch.isfinite(logits).all()
