"""`proxy_trainer.modeling.onnx_export`: SpineNet-49's backbone and classifier through
`torch.export` (outputs equal eager's) and to ONNX (onnxruntime within the stated tolerance,
stable input and output names, one self-contained file), the dynamic batch, the error measure,
and the one-line error when the optional extra is missing. Tiny widths keep each export cheap."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

from proxy_trainer.modeling.detector import build_backbone
from proxy_trainer.modeling.model_config import ModelConfig
from proxy_trainer.modeling.onnx_export import (
    DEFAULT_OPSET,
    INSTALL_HINT,
    TOLERANCE,
    OnnxExportError,
    check_onnx,
    eager_outputs,
    example_images,
    export_onnx,
    export_program,
    measure_errors,
    output_names,
    require_onnx_packages,
    run_onnx,
)
from proxy_trainer.tasks.classification.model import build_classifier
from search_space import get_builtin

SPINENET_49 = get_builtin("spinenet-49")
TINY = ModelConfig(filter_size_scale=0.125, resample_alpha=0.25, endpoints_num_filters=16)
SIZE = 128  # P7 is 1 x 1; every resample path (max-pool, nearest resize) is in the graph
ODD_SIZE = 100  # odd level sizes: the nearest resizes to an exact size run too (13 -> 7 -> 4 -> 2 -> 1)
LEVELS = ["P3", "P4", "P5", "P6", "P7"]
# torch.export runs the same ATen kernels as eager, so its outputs agree to float32 rounding
PROGRAM_RTOL, PROGRAM_ATOL = 1e-5, 1e-6


pytestmark = pytest.mark.usefixtures("one_thread")


def tiny_backbone():
    torch.manual_seed(0)
    return build_backbone(SPINENET_49, TINY).eval()


def tiny_classifier():
    torch.manual_seed(0)
    return build_classifier(SPINENET_49, TINY, num_classes=10, dropout=0.2).eval()


def assert_program_matches_eager(program, model, images):
    exported, eager = program.module()(images), eager_outputs(model, images)
    if isinstance(exported, torch.Tensor):
        exported = {"logits": exported}
    else:
        exported = {f"P{level}": value for level, value in exported.items()}
    assert list(exported) == list(eager)
    for name, value in eager.items():
        torch.testing.assert_close(exported[name], value, rtol=PROGRAM_RTOL, atol=PROGRAM_ATOL)


def test_backbone_program_equals_eager():
    model = tiny_backbone()
    program = export_program(model, SIZE)
    assert isinstance(program, torch.export.ExportedProgram)
    assert_program_matches_eager(program, model, example_images(SIZE))


def test_classifier_program_equals_eager_with_dropout_off():
    model = tiny_classifier()
    program = export_program(model, ODD_SIZE)
    assert_program_matches_eager(program, model, example_images(ODD_SIZE, seed=1))


def test_dynamic_batch_program_takes_any_batch():
    model = tiny_backbone()
    program = export_program(model, SIZE, dynamic_batch=True)
    for batch in (1, 3):
        assert_program_matches_eager(program, model, example_images(SIZE, batch))
    with pytest.raises((AssertionError, RuntimeError), match="Guard failed"):  # the spatial size stays fixed
        program.module()(example_images(SIZE // 2))


@pytest.fixture(scope="module")
def backbone_onnx(tmp_path_factory):
    """A tiny SpineNet-49 backbone and its dynamic-batch ONNX file (one export for several tests)."""
    before = torch.get_num_threads()  # module-scoped: set up before the autouse one_thread runs
    torch.set_num_threads(1)
    model, path = tiny_backbone(), tmp_path_factory.mktemp("onnx") / "backbone.onnx"
    export_onnx(model, path, SIZE, dynamic_batch=True)
    torch.set_num_threads(before)
    return model, path


def test_backbone_onnx_runs_within_tolerance(backbone_onnx):
    model, path = backbone_onnx
    check = check_onnx(path, model, SIZE)
    print(f"backbone 49 x0.125 @ {SIZE}: {check.describe()}")
    assert check.passed and check.relative_error <= TOLERANCE and check.max_abs_error < 1e-3
    assert check.input_shape == (1, 3, SIZE, SIZE)


def test_backbone_onnx_takes_any_batch(backbone_onnx):
    model, path = backbone_onnx
    check = check_onnx(path, model, SIZE, batch=3, seed=2)
    print(f"backbone, batch 3: {check.describe()}")
    assert check.passed


def test_backbone_onnx_is_one_valid_file_with_stable_names(backbone_onnx):
    import onnx

    _, path = backbone_onnx
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no external weights file
    graph = onnx.load(str(path))
    onnx.checker.check_model(graph, full_check=True)
    assert [i.name for i in graph.graph.input] == ["images"]
    assert [o.name for o in graph.graph.output] == LEVELS
    assert {(o.domain, o.version) for o in graph.opset_import if o.domain == ""} == {("", DEFAULT_OPSET)}
    assert graph.graph.input[0].type.tensor_type.shape.dim[0].dim_param == "batch"


def test_classifier_onnx_runs_within_tolerance(tmp_path):
    model, path = tiny_classifier(), tmp_path / "classifier.onnx"
    export_onnx(model, path, ODD_SIZE)
    check = check_onnx(path, model, ODD_SIZE)
    print(f"classifier 49 x0.125 @ {ODD_SIZE}: {check.describe()}")
    assert check.passed
    assert list(run_onnx(path, example_images(ODD_SIZE))) == ["logits"]


def test_output_names_follow_the_levels():
    assert output_names(tiny_backbone()) == LEVELS
    assert output_names(tiny_classifier()) == ["logits"]


def test_measure_errors_is_relative_to_each_outputs_scale():
    eager = {"P3": torch.tensor([10.0, -20.0]), "P4": torch.tensor([0.5, 0.0])}
    onnx = {"P3": torch.tensor([10.0, -20.002]), "P4": torch.tensor([0.5, 0.001])}
    max_abs, relative = measure_errors(onnx, eager)
    assert max_abs == pytest.approx(0.002, rel=1e-3)
    assert relative == pytest.approx(0.002, rel=1e-3)  # P4: 0.001 / 0.5, above P3's 0.002 / 20


@pytest.mark.parametrize("onnx, fragment", [
    ({"P4": torch.zeros(2)}, "the ONNX outputs are ['P4']"),
    ({"P3": torch.zeros(3)}, "ONNX output P3 has shape [3]"),
])
def test_measure_errors_refuses_another_models_outputs(onnx, fragment):
    with pytest.raises(OnnxExportError) as info:
        measure_errors(onnx, {"P3": torch.zeros(2)})
    assert fragment in str(info.value)


def test_missing_extra_is_one_line_with_the_install_command(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # `import onnxruntime` now fails
    with pytest.raises(OnnxExportError) as info:
        require_onnx_packages()
    message = str(info.value)
    assert "\n" not in message and "onnxruntime" in message and INSTALL_HINT in message
    with pytest.raises(OnnxExportError):
        export_onnx(tiny_backbone(), tmp_path / "x.onnx", SIZE)
    assert not (tmp_path / "x.onnx").exists()


@pytest.mark.parametrize("name, fragment", [("missing/x.onnx", "does not exist"), (".", "is a directory")])
def test_unwritable_path_is_refused_before_exporting(tmp_path, name, fragment):
    with pytest.raises(OnnxExportError, match=fragment):
        export_onnx(tiny_backbone(), tmp_path / name, SIZE)


def test_bad_image_size_is_refused():
    with pytest.raises(OnnxExportError, match="image size is 0"):
        example_images(0)


def test_the_extra_and_requirements_dev_pin_the_same_versions():
    """CI installs requirements-dev.txt; users install the extra: both must name the same versions."""
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    root = Path(__file__).resolve().parents[2]
    extra = tomllib.loads((root / "pyproject.toml").read_text())["project"]["optional-dependencies"]["onnx"]
    lines = (root / "requirements-dev.txt").read_text().splitlines()
    assert sorted(extra) == sorted(line for line in lines if line.startswith("onnx"))
    assert all("==" in pin for pin in extra)
