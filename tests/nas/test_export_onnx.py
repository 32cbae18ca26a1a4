"""`nas export SOURCE --format onnx`: the backbone (outputs P3..P7) or the classifier (logits)
as a file onnx.checker accepts, checked on onnxruntime with the measured error printed; --top K
writes one .onnx per trial (the CLI's wiring, the exporter replaced); bad input is one line with exit code 2, and a check above the
tolerance exits 1. Models are SpineNet-49S at 64 px to keep each export cheap."""

from __future__ import annotations

import os
import shutil
import sys

import pytest

from nas.cli import main

FIXTURE_RUN = os.path.join(os.path.dirname(__file__), "fixtures", "run_schema_0")
SMALL = ["--model", "49S", "--input-size", "64"]


pytestmark = pytest.mark.usefixtures("one_thread")


def load_checked(path):
    """The ONNX model at `path`, after onnx.checker's full check."""
    import onnx

    model = onnx.load(str(path))
    onnx.checker.check_model(model, full_check=True)
    return model


def dims(value_info) -> list:
    return [d.dim_param or d.dim_value for d in value_info.type.tensor_type.shape.dim]


def test_backbone_file_passes_the_checker_and_prints_its_error(capsys, tmp_path):
    out = tmp_path / "spinenet49S.onnx"
    assert main(["export", "spinenet-49", "--format", "onnx", *SMALL, "-o", str(out)]) == 0
    printed = capsys.readouterr().out
    print(printed)
    assert f"wrote {out}: spinenet-49 backbone at 49S, input [1, 3, 64, 64], opset 20" in printed
    assert "max abs error" in printed and "within tolerance 1e-04" in printed
    model = load_checked(out)
    assert [o.name for o in model.graph.output] == ["P3", "P4", "P5", "P6", "P7"]
    assert dims(model.graph.input[0]) == [1, 3, 64, 64]
    assert dims(model.graph.output[0]) == [1, 128, 8, 8]  # 49S: 128 endpoint channels


def test_top_k_writes_one_classifier_per_trial(monkeypatch, capsys, tmp_path):
    """The CLI's wiring only: which module, size and batch reach the exporter, and the file names
    (the real export and check of a classifier are tests/proxy_trainer/test_onnx_export.py's)."""
    from proxy_trainer.modeling import onnx_export
    from proxy_trainer.tasks.classification.model import Classifier

    calls = []

    def fake_export(model, path, image_size, *, dynamic_batch=False):
        calls.append((model, image_size, dynamic_batch))
        open(path, "wb").close()

    monkeypatch.setattr(onnx_export, "export_onnx", fake_export)
    monkeypatch.setattr(onnx_export, "check_onnx",
                        lambda path, model, size: onnx_export.OnnxCheck(1e-6, 1e-7, 1e-4, (1, 3, size, size)))
    run, folder = tmp_path / "run", tmp_path / "best"
    shutil.copytree(FIXTURE_RUN, run)
    argv = ["export", str(run), "--top", "2", "--format", "onnx", "--task", "classification", "--num-classes", "5",
            "--dynamic-batch", "--model", "49S", "-o", str(folder)]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    written = sorted(p.name for p in folder.iterdir())
    assert [name[:5] for name in written] == ["top1-", "top2-"] and all(n.endswith(".onnx") for n in written)
    assert printed.count("classifier at 49S, input [N, 3, 224, 224], opset 20") == 2
    assert printed.count("within tolerance") == 2
    (model, size, dynamic), _ = calls
    assert isinstance(model, Classifier) and model.head.logits.out_features == 5
    assert (size, dynamic) == (224, True)  # the classifier's default input: the paper's 224 px


def test_a_check_above_the_tolerance_exits_1(monkeypatch, capsys, tmp_path):
    from proxy_trainer.modeling import onnx_export

    monkeypatch.setattr(onnx_export, "export_onnx", lambda *args, **kwargs: None)
    monkeypatch.setattr(onnx_export, "check_onnx",
                        lambda *args, **kwargs: onnx_export.OnnxCheck(0.5, 0.01, 1e-4, (1, 3, 64, 64)))
    assert main(["export", "spinenet-49", "--format", "onnx", *SMALL, "-o", str(tmp_path / "x.onnx")]) == 1
    err = capsys.readouterr().err
    assert "relative 1.00e-02 (ABOVE tolerance 1e-04)" in err


@pytest.mark.parametrize("argv, fragment", [
    (["--format", "onnx"], "--format onnx writes a file; give -o PATH"),
    (["--format", "onnx", "-o", "{tmp}"], "is a directory"),
    (["--format", "onnx", "-o", "{tmp}/missing/x.onnx"], "does not exist"),
    (["--format", "onnx", "--task", "classification", "--num-classes", "0", "-o", "{tmp}/x.onnx"],
     "'0' is not a positive integer"),
    (["--format", "onnx", "--input-size", "0", "-o", "{tmp}/x.onnx"], "'0' is not a positive integer"),
    (["--input-size", "64"], "--input-size sets the ONNX export's input; add --format onnx"),
    (["--format", "torch", "--dynamic-batch", "-o", "{tmp}/x.onnx"], "--dynamic-batch sets the ONNX"),
    (["--format", "tf", "--task", "classification"], "use --format torch, not tf (or --format onnx)"),
])
def test_bad_input_is_one_line_and_exit_2(capsys, tmp_path, argv, fragment):
    try:
        code = main(["export", "spinenet-49", *[a.replace("{tmp}", str(tmp_path)) for a in argv]])
    except SystemExit as stop:  # argparse rejects bad option values itself
        code = stop.code
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and fragment in err
    assert not (tmp_path / "x.onnx").exists()


def test_missing_extra_is_one_line_naming_the_install_command(monkeypatch, capsys, tmp_path):
    monkeypatch.setitem(sys.modules, "onnxscript", None)  # `import onnxscript` now fails
    code = main(["export", "spinenet-49", "--format", "onnx", "-o", str(tmp_path / "x.onnx")])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1
    assert "needs onnxscript" in err and "pip install -e '.[onnx]'" in err
    assert not (tmp_path / "x.onnx").exists()


def test_help_shows_the_onnx_export(capsys):
    with pytest.raises(SystemExit):
        main(["export", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "nas export spinenet-49 --format onnx --model 49 -o spinenet49.onnx" in text
    assert "--input-size S" in text and "--dynamic-batch" in text
