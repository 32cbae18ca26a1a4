"""`nas draw`: layout data per built-in spec, and the SVG files (counted by element id)."""

import os
import re

import pytest

from nas.cli import main
from nas.inspect.layout import MERGE, PARENT, layout_spec
from search_space import BUILTIN_SPECS
from search_space.merge_rule import implicit_merges

COMMITTED_DRAWING = os.path.join(os.path.dirname(__file__), "..", "..", "results", "spinenet-49.svg")


def svg_ids(path, prefix=""):
    """Counter of element kinds (block/edge/merge) among the SVG's ids with that prefix."""
    text = path.read_text()
    ids = re.findall(r'id="' + re.escape(prefix) + r'(block|edge|merge)-([0-9-]+)"', text)
    return ids


def kinds(ids):
    return {kind: sum(1 for k, _ in ids if k == kind) for kind in ("block", "edge", "merge")}


@pytest.mark.parametrize("name", sorted(BUILTIN_SPECS))
def test_layout_has_every_feature_and_connection(name):
    spec = BUILTIN_SPECS[name]
    layout = layout_spec(spec)
    assert [n.feature for n in layout.nodes] == list(range(spec.num_features))
    assert [n.level for n in layout.nodes] == [spec.feature_level(f) for f in range(spec.num_features)]
    assert layout.count(PARENT) == 2 * len(spec.blocks)
    assert layout.count(MERGE) == sum(len(v) for v in implicit_merges(spec).values())
    outputs = {n.output_level: n.feature for n in layout.nodes if n.output_level is not None}
    assert outputs == spec.output_features()


def test_spinenet49_layout_golden():
    layout = layout_spec(BUILTIN_SPECS["spinenet-49"])
    assert [(e.source, e.target) for e in layout.edges if e.kind == MERGE] == [(11, 14)]
    assert [n.feature for n in layout.nodes if n.block_fn == "residual"] == [3, 6, 8, 9]
    assert [n.feature for n in layout.nodes if n.is_stem] == [0, 1]
    assert layout.levels == (2, 3, 4, 5, 6, 7)


def test_draw_svg_counts_blocks_and_arrows(capsys, tmp_path):
    out = tmp_path / "sp49.svg"
    assert main(["draw", "spinenet-49", "-o", str(out)]) == 0
    assert capsys.readouterr().out == f"wrote {out}\n"
    ids = svg_ids(out)
    assert kinds(ids) == {"block": 17, "edge": 30, "merge": 1}
    assert ("merge", "11-14") in ids and ("edge", "5-15") in ids
    text = out.read_text()
    for label in ("P3", "P4", "P5", "P6", "P7", "bottleneck", "residual", "implicit merge"):
        assert f">{label}<" in text
    with open(COMMITTED_DRAWING, encoding="utf-8") as handle:
        assert text == handle.read()  # the committed drawing is current


def test_compare_draws_two_specs_with_unique_ids(tmp_path):
    out = tmp_path / "cmp.svg"
    assert main(["draw", "spinenet-49", "--compare", "r50-sd", "-o", str(out)]) == 0
    assert kinds(svg_ids(out, "s0.")) == {"block": 17, "edge": 30, "merge": 0}  # r50-sd on top
    assert kinds(svg_ids(out, "s1.")) == {"block": 17, "edge": 30, "merge": 1}
    assert kinds(svg_ids(out)) == {"block": 0, "edge": 0, "merge": 0}


def test_default_output_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["draw", "r50-sd"]) == 0
    assert kinds(svg_ids(tmp_path / "r50-sd.svg"))["block"] == 17


@pytest.mark.parametrize("argv, fragment", [
    (["draw", "spinenet-49", "-o", "{tmp}/x.pdf"], "end the file name in .svg or .png"),
    (["draw", "spinenet-49", "-o", "{tmp}/missing/x.svg"], "cannot write"),
    (["draw", "spinenet-49", "-o", "{tmp}"], "is a directory"),
    (["draw", "spinenet-49", "-o", "{tmp}/dir.svg"], "is a directory"),
    (["draw", "r50-fpn"], "baseline model, not a spec"),
    (["draw", "nope-49"], "unknown SOURCE 'nope-49'"),
    (["draw", "spinenet-49", "--compare", "{tmp}/run:best"], "does not exist"),
])
def test_bad_input_is_one_line_exit_2(capsys, tmp_path, argv, fragment):
    (tmp_path / "dir.svg").mkdir()
    code = main([a.replace("{tmp}", str(tmp_path)) for a in argv])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and err.startswith("nas draw: error: ")
    assert fragment in err


def test_help_has_an_example(capsys):
    with pytest.raises(SystemExit) as info:
        main(["draw", "--help"])
    assert info.value.code == 0
    assert "example: nas draw" in capsys.readouterr().out


def test_dead_blocks_are_marked_in_layout_and_title(tmp_path):
    from search_space import SearchSpace

    spec = SearchSpace.from_seed("resnet50").sample_spec(7, 13)  # dead features 8 and 10
    layout = layout_spec(spec)
    assert layout.dead == (8, 10) and layout_spec(BUILTIN_SPECS["spinenet-49"]).dead == ()
    out = tmp_path / "dead.svg"
    from nas.inspect.draw import save_drawing

    save_drawing([spec], str(out))
    assert "2 dead (feed no output, not built)" in out.read_text() and ">dead: feeds no output<" in out.read_text()
