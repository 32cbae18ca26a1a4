"""`nas validate`: one success line, or one error line on stderr with exit code 2 — never a
traceback — for every kind of bad SOURCE."""

import json
import os
import subprocess
import sys

import pytest

from nas.cli import main
from search_space import BUILTIN_SPECS, spec_to_dict


def run_cli(capsys, *argv):
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize("name", sorted(BUILTIN_SPECS))
def test_builtins_are_valid(capsys, name):
    code, out, err = run_cli(capsys, "validate", name)
    assert (code, out, err) == (0, f"valid: {name} (15 blocks)\n", "")


@pytest.mark.parametrize("damage", ["no-short-range", "no-long-range", "sequential"])
def test_damaged_sources_are_valid_json_but_not_tf(capsys, tmp_path, damage):
    code, out, err = run_cli(capsys, "validate", f"r0-sp53~{damage}")
    assert (code, out.splitlines()[0], err) == (0, f"valid: r0-sp53~{damage} (15 blocks)", "")
    assert all(line.startswith("note: ") for line in out.splitlines()[1:])  # a cut may leave dead blocks
    code, _, err = run_cli(capsys, "export", f"r0-sp53~{damage}", "--format", "tf", "-o", str(tmp_path / "tf.py"))
    assert code == 2 and "damaged connections" in err and err.count("\n") == 1


def test_tf_file_is_valid(capsys, tmp_path):
    path = tmp_path / "tf_specs.py"
    code, out, _ = run_cli(capsys, "export", "spinenet-49", "--format", "tf", "-o", str(path))
    assert code == 0 and out == ""
    code, out, _ = run_cli(capsys, "validate", str(path))
    assert (code, out) == (0, "valid: tf_specs (15 blocks)\n")


def _bad_graph(tmp_path):
    data = spec_to_dict(BUILTIN_SPECS["spinenet-49"])
    data["blocks"][7]["inputs"] = [6, 9]
    path = tmp_path / "bad_graph.json"
    path.write_text(json.dumps(data))
    return str(path), "block 7 (feature 9, level 7) takes input 9"


def _file(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


BAD_SOURCES = {
    "unknown-name": lambda p: ("spinenet-50", "unknown SOURCE 'spinenet-50'; known: spinenet-49"),
    "not-json": lambda p: (_file(p, "a.json", "{oops"), "is not valid JSON"),
    "deeply-nested": lambda p: (_file(p, "deep.json", "{\"blocks\": " + "[" * 50000 + "]" * 50000 + "}"),
                                "nested too deeply"),
    "deeply-nested-list": lambda p: (_file(p, "deep.py", "[" * 50000 + "]" * 50000), "nested too deeply"),
    "tf-without-list": lambda p: (_file(p, "other.py", "x = [1]\n"), "holds no 'SPINENET_BLOCK_SPECS = [...]'"),
    "wrong-shape": lambda p: (_file(p, "shape.json", '{"blocks": {"level": 2}}'), "must be a list of blocks"),
    "invalid-graph": _bad_graph,
    "missing-path": lambda p: (str(p / "nope" / "spec.json"), "unknown SOURCE"),
    "directory": lambda p: (str(p), "is a directory"),
    "binary": lambda p: (_file(p, "bin.json", "") and _write_bytes(p / "bin.json"), "not UTF-8"),
    "missing-run": lambda p: (str(p / "run") + ":best", "does not exist"),
    "baseline": lambda p: ("r50-fpn", "baseline model, not a spec"),
    "unknown-damage": lambda p: ("r0-sp53~no-links", "unknown damage '~no-links'; use one of ~no-short-range"),
    "damaged-baseline": lambda p: ("r50-fpn~sequential", "baseline model, not a spec"),
}


def _write_bytes(path):
    path.write_bytes(b"\xff\xfe\x00garbage")
    return str(path)


@pytest.mark.parametrize("case", sorted(BAD_SOURCES))
def test_bad_source_is_one_line_and_exit_2(capsys, tmp_path, case):
    source, fragment = BAD_SOURCES[case](tmp_path)
    code, out, err = run_cli(capsys, "validate", source)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("nas validate: error: ")
    assert fragment in err


def test_real_process_has_no_traceback(tmp_path):
    env = dict(os.environ, PYTHONPATH=os.getcwd())
    bad = _file(tmp_path, "x.json", '{"blocks": 5}')
    proc = subprocess.run(
        [sys.executable, "-m", "nas", "validate", bad], check=False, capture_output=True, text=True, env=env
    )
    assert proc.returncode == 2
    assert proc.stderr.strip() == "nas validate: error: spec field 'blocks' is int; it must be a list of blocks"
    assert "Traceback" not in proc.stderr


def test_usage_errors_are_one_line(capsys):
    with pytest.raises(SystemExit) as info:
        main(["validate"])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "required: SOURCE" in err


def test_dead_blocks_and_model_gardens_l2_output_get_notes(capsys, tmp_path):
    from search_space import SearchSpace, spec_to_json, to_tf_text

    spec = SearchSpace.from_seed("r0-sp53").sample_spec(7, 4)
    path = tmp_path / "dead.json"
    path.write_text(spec_to_json(spec))
    code, out, _ = run_cli(capsys, "validate", str(path))
    assert (code, out) == (0, ("valid: r0-sp53-s7-4 (15 blocks)\nnote: 1 of 15 blocks feed no output: blocks 5 "
                              "(features 7); they are not built or counted (TF Model Garden does not build them either)\n"))
    garden = tmp_path / "model_garden.py"
    garden.write_text(to_tf_text(BUILTIN_SPECS["spinenet-49"]).replace("]\n", "    (2, 'bottleneck', (2, 13), True),\n]\n"))
    code, out, _ = run_cli(capsys, "validate", str(garden))
    lines = out.splitlines()
    assert code == 0 and lines[0] == "valid: model_garden (16 blocks)"
    assert lines[1].startswith("note: output block 15 (feature 17, L2) lies outside levels [3, 7]")
    assert lines[2].startswith("note: 1 of 16 blocks feed no output: blocks 15 (features 17)")
