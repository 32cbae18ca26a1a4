"""`nas info SOURCE --task classification` and `nas info --task classification --table`: the
paper's classifier counted at 224 px with 1000 classes (text and JSON), the ImageNet table beside
ours, detection's output unchanged, and one line with exit code 2 for combinations that mean
nothing."""

from __future__ import annotations

import json
from dataclasses import fields

import pytest

from nas.cli import main
from proxy_trainer.modeling.model_config import ModelConfig
from proxy_trainer.tasks.classification.model import ImageNetRow, describe_classifier
from search_space import get_builtin

# SpineNet-49 with the classification head at 224 px, 1000 classes (the paper: 22.1M, 3.5B).
SP49_PARAMS, SP49_MULTIPLY_ADDS = 22_088_488, 3_477_940_224


def run_cli(capsys, *argv):
    try:
        code = main(list(argv))
    except SystemExit as stop:  # argparse usage errors exit from inside the parser
        code = stop.code
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_text_at_the_papers_imagenet_setting(capsys):
    code, out, err = run_cli(capsys, "info", "spinenet-49", "--task", "classification", "--model", "49")
    assert (code, err) == (0, "")
    assert out.splitlines() == [
        "spinenet-49  (scaling 49, input 224x224, 1000 classes, batch 1)",
        "params: 22.09 M",
        "FLOPs:  3.48 B multiply-adds (backbone + endpoints + classification head, aggregation 'all')",
        "level  shape",
        "P3     [1, 256, 28, 28]",
        "P4     [1, 256, 14, 14]",
        "P5     [1, 256, 7, 7]",
        "P6     [1, 256, 4, 4]",
        "P7     [1, 256, 2, 2]",
    ]


def test_json_at_the_papers_imagenet_setting(capsys):
    code, out, _ = run_cli(capsys, "info", "spinenet-49", "--task", "classification", "--model", "49", "--json")
    info = json.loads(out)
    assert code == 0
    assert (info["task"], info["source"], info["model"], info["input_size"], info["num_classes"]) == (
        "classification", "spinenet-49", "49", 224, 1000)
    assert (info["params"], info["multiply_adds"]) == (SP49_PARAMS, SP49_MULTIPLY_ADDS)
    assert (info["params_m"], info["flops_b"]) == (22.09, 3.48)


def test_size_and_classes_options_match_the_counter(capsys):
    code, out, _ = run_cli(capsys, "info", "r0-sp53", "--task", "classification", "--model", "49S",
                           "--input-size", "128", "--num-classes", "10", "--json")
    info = json.loads(out)
    expected = describe_classifier(get_builtin("r0-sp53"), ModelConfig.from_scaling("49S"), num_classes=10,
                                   image_size=128)
    assert code == 0 and (info["params"], info["multiply_adds"]) == expected
    assert (info["input_size"], info["num_classes"], info["levels"]["P3"]) == (128, 10, [1, 128, 16, 16])


def test_detection_output_keeps_its_keys(capsys):
    code, out, _ = run_cli(capsys, "info", "spinenet-49", "--model", "49S", "--input-size", "128", "--json")
    info = json.loads(out)
    assert code == 0 and "task" not in info and (info["num_classes"], info["input_size"]) == (90, 128)


def test_table_text_has_the_papers_figures_and_ours(capsys):
    code, out, err = run_cli(capsys, "info", "--task", "classification", "--table")
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[1].split() == ["model", "params", "(M)", "paper", "diff", "FLOPs", "(B)", "paper", "diff"]
    assert lines[2:7] == [
        "SpineNet-49       22.09   22.1  -0.05%        3.48    3.5  -0.63%",
        "SpineNet-96       36.52   36.5  +0.05%        5.72    5.7  +0.41%",
        "SpineNet-143      60.50   60.5  +0.01%        9.09    9.1  -0.14%",
        "SpineNet-190     127.10  127.1  +0.00%       19.11      -       -",
        "ResNet-50         25.56   25.6  -0.17%        4.09    4.1  -0.26%",
    ]


def test_table_json_is_the_models_rows(capsys):
    code, out, _ = run_cli(capsys, "info", "--task", "classification", "--table", "--json")
    table = json.loads(out)
    assert code == 0 and (table["input_size"], table["num_classes"]) == (224, 1000)
    rows = {row["model"]: row for row in table["rows"]}
    assert list(rows) == ["49", "96", "143", "190", "resnet-50"]
    assert set(rows["49"]) == {field.name for field in fields(ImageNetRow)}
    assert (rows["49"]["params"], rows["49"]["multiply_adds"]) == (SP49_PARAMS, SP49_MULTIPLY_ADDS)
    assert (rows["49"]["paper_params_m"], rows["49"]["paper_flops_b"]) == (22.1, 3.5)
    assert (rows["resnet-50"]["params"], rows["resnet-50"]["multiply_adds"]) == (25_557_032, 4_089_184_256)
    assert rows["190"]["paper_flops_b"] is None and rows["190"]["flops_difference"] is None


@pytest.mark.parametrize("argv, fragment", [
    (["info"], "give a SOURCE"),
    (["info", "--table"], "use: nas info --task classification --table"),
    (["info", "spinenet-49", "--task", "classification", "--table"], "drop SOURCE"),
    (["info", "--task", "classification", "--table", "--model", "96"], "drop --model"),
    (["info", "--task", "classification", "--table", "--num-classes", "10"], "drop --num-classes"),
    (["info", "spinenet-49", "--task", "segmentation"], "invalid choice: 'segmentation'"),
    (["info", "spinenet-49", "--task", "classification", "--num-classes", "0"], "'0' is not a positive integer"),
])
def test_bad_combinations_are_one_line_and_exit_2(capsys, argv, fragment):
    code, out, err = run_cli(capsys, *argv)
    assert (code, out) == (2, "")
    assert fragment in err and err.count("\n") == 1


def test_help_names_the_task_and_the_table(capsys):
    code, out, _ = run_cli(capsys, "info", "--help")
    assert code == 0 and "nas info --task classification --table" in " ".join(out.split())
