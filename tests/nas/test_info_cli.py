"""`nas info SOURCE`: params, FLOPs and level shapes as text or JSON; bad input is one line on
stderr with exit code 2."""

from __future__ import annotations

import json

import pytest

from nas.cli import main
from proxy_trainer.complexity import count_params_flops
from proxy_trainer.modeling.model_config import ModelConfig
from search_space import get_builtin, spec_to_json


def run_cli(capsys, *argv):
    try:
        code = main(list(argv))
    except SystemExit as stop:  # argparse usage errors exit from inside the parser
        code = stop.code
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_json_matches_the_counter(capsys):
    code, out, err = run_cli(capsys, "info", "spinenet-49", "--model", "49S", "--input-size", "256", "--json")
    assert (code, err) == (0, "")
    info = json.loads(out)
    params, madds = count_params_flops(get_builtin("spinenet-49"), ModelConfig.from_scaling("49S"), image_size=256)
    assert (info["params"], info["multiply_adds"]) == (params, madds)
    assert info["levels"] == {f"P{lv}": [1, 128, 256 // 2**lv, 256 // 2**lv] for lv in range(3, 8)}
    assert (info["source"], info["model"], info["input_size"], info["num_classes"]) == ("spinenet-49", "49S", 256, 90)


def test_text_for_the_baseline_at_the_default_size(capsys):
    code, out, _ = run_cli(capsys, "info", "r50-fpn")
    lines = out.splitlines()
    assert code == 0
    assert lines[0] == "r50-fpn  (scaling 49, input 640x640, 90 classes, batch 1)"
    assert lines[1] == "params: 34.07 M"
    assert lines[2].startswith("FLOPs:  96.7 B multiply-adds")
    assert lines[-1] == "P7     [1, 256, 5, 5]"


def test_spec_file_source(capsys, tmp_path):
    path = tmp_path / "spec.json"
    path.write_text(spec_to_json(get_builtin("r0-sp53")))
    code, out, _ = run_cli(capsys, "info", str(path), "--input-size", "128", "--json")
    assert code == 0 and json.loads(out)["levels"]["P3"] == [1, 256, 16, 16]


@pytest.mark.parametrize("argv,message", [
    (["info", "nope"], "unknown SOURCE 'nope'"),
    (["info", "spinenet-49", "--model", "12"], "invalid choice: '12'"),
    (["info", "spinenet-49", "--input-size", "0"], "'0' is not a positive integer"),
])
def test_bad_input_is_one_line_and_exit_2(capsys, argv, message):
    code, out, err = run_cli(capsys, *argv)
    assert (code, out) == (2, "")
    assert message in err and err.count("\n") == 1


def test_dead_blocks_are_named_and_not_counted(capsys, tmp_path):
    from search_space import SearchSpace

    spec = SearchSpace.from_seed("resnet50").sample_spec(7, 2)  # dead features 6, 8, 9 (as TF prunes them)
    expected = count_params_flops(spec, ModelConfig.from_scaling("49"), image_size=640)
    source = str(tmp_path / f"{spec.name}.json")
    with open(source, "w", encoding="utf-8") as handle:
        handle.write(spec_to_json(spec))
    code, out, _ = run_cli(capsys, "info", source, "--json")
    info = json.loads(out)
    assert code == 0 and info["dead_features"] == [6, 8, 9] and (info["params"], info["multiply_adds"]) == expected
    assert info["notes"] == [("3 of 15 blocks feed no output: blocks 4, 6, 7 (features 6, 8, 9); they are not built "
                             "or counted (TF Model Garden does not build them either)")]
    code, out, _ = run_cli(capsys, "info", source)
    assert out.endswith(f"note: {info['notes'][0]}\n")
