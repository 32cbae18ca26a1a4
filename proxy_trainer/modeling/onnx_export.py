"""A SpineNet backbone or classifier as a `torch.export` program and as an ONNX file, and one
onnxruntime run of that file compared with eager PyTorch (docs/design.md §3.7).

`export_program` traces a model in eval mode on a [1, 3, S, S] input with `torch.export` (with
`dynamic_batch`, on a [2, 3, S, S] input with the batch left free). `export_onnx` writes one
self-contained ONNX file with torch's exporter (`torch.onnx.export(..., dynamo=True)`, opset
`DEFAULT_OPSET`): the input is named `images`, the outputs `P3`..`P7` for a backbone (one per
level, in level order) and `logits` for a classifier. `check_onnx` runs that file once on
onnxruntime's CPU provider on a seeded input and measures how far it is from the eager outputs
(`OnnxCheck`; it passes within `TOLERANCE`).

onnx, onnxscript and onnxruntime are the optional extra `onnx` and are imported only inside
functions here; without them `require_onnx_packages` raises one `UserInputError` that says how to
install them.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Mapping
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from proxy_trainer.tasks.classification.model import Classifier
from search_space.errors import UserInputError

DEFAULT_OPSET = 20  # torch 2.14's exporter writes opset 20 natively (no version conversion)
INPUT_NAME = "images"
LOGITS_NAME = "logits"
LEVEL_PREFIX = "P"  # backbone outputs are P3..P7
BATCH_DIM = "batch"  # the name of the free batch dimension of a dynamic-batch export
DYNAMIC_EXAMPLE_BATCH = 2  # torch.export fixes a dimension whose example size is 1, so trace with 2
CHECK_SEED = 0  # the seed of the check's input images
# The check passes when, for every output, max |onnxruntime - eager| <= TOLERANCE * max |eager|.
# Measured on SpineNet-49 from width x0.125 to scaling 190: 1e-7 to 2e-6 (float32 rounding in
# other kernels and in the BN folded into the convolutions; docs/design.md §3.7), so 1e-4 leaves
# a margin of 50 or more.
TOLERANCE = 1e-4
ONNX_PACKAGES = ("onnx", "onnxscript", "onnxruntime")
INSTALL_HINT = "pip install -e '.[onnx]'"


class OnnxExportError(UserInputError):
    """An ONNX export cannot run: a missing package, a bad size or an unwritable path."""


def require_onnx_packages() -> None:
    """Raise `OnnxExportError` (one line, with the install command) unless the extra is installed."""
    missing = [name for name in ONNX_PACKAGES if not _importable(name)]
    if missing:
        raise OnnxExportError(f"ONNX export needs {', '.join(missing)} (the optional extra 'onnx'); "
                              f"install it with: {INSTALL_HINT}")


def _importable(name: str) -> bool:
    try:
        importlib.import_module(name)
    except ImportError:
        return False
    return True


def example_images(image_size: int, batch: int = 1, seed: int = CHECK_SEED) -> Tensor:
    """Seeded standard-normal images [batch, 3, image_size, image_size]."""
    if image_size < 1:
        raise OnnxExportError(f"image size is {image_size}; it must be a positive number of pixels")
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(batch, 3, image_size, image_size, generator=generator)


def _trace_inputs(image_size: int, dynamic_batch: bool) -> tuple[tuple[Tensor], tuple[dict] | None]:
    """(example args, dynamic_shapes) for torch.export and the ONNX exporter."""
    if not dynamic_batch:
        return (example_images(image_size),), None
    batch = torch.export.Dim(BATCH_DIM, min=1)
    return (example_images(image_size, DYNAMIC_EXAMPLE_BATCH),), ({0: batch},)


def export_program(model: nn.Module, image_size: int, *, dynamic_batch: bool = False) -> torch.export.ExportedProgram:
    """The model's inference graph as a `torch.export` program.

    Args:
        model: a SpineNet (or other backbone returning {level: tensor}) or a `Classifier`; it is
            switched to eval mode (BN uses its running statistics, dropout is off).
        image_size: S of the [1, 3, S, S] input the graph is traced for; its shapes are fixed.
        dynamic_batch: leave the batch size free (any N >= 1) instead of 1.
    Raises:
        OnnxExportError: image_size < 1.
    """
    args, dynamic_shapes = _trace_inputs(image_size, dynamic_batch)
    model.eval()
    return torch.export.export(model, args, dynamic_shapes=dynamic_shapes)


def output_names(model: nn.Module) -> list[str]:
    """The ONNX output names: ['logits'] for a `Classifier`, else 'P<level>' per backbone level."""
    if isinstance(model, Classifier):
        return [LOGITS_NAME]
    return [f"{LEVEL_PREFIX}{level}" for level in model.output_shape()]


def export_onnx(model: nn.Module, path: str | os.PathLike, image_size: int, *, opset: int = DEFAULT_OPSET,
                dynamic_batch: bool = False) -> None:
    """Write the model's inference graph to one ONNX file with torch's exporter (dynamo=True).

    Args:
        model, image_size, dynamic_batch: as `export_program`.
        path: the .onnx file; the weights are inside it (no external data file).
        opset: the ONNX opset of the default domain.
    Raises:
        OnnxExportError: the extra is missing, image_size < 1, or the path cannot be written.
    """
    require_onnx_packages()
    check_writable(path)
    args, dynamic_shapes = _trace_inputs(image_size, dynamic_batch)
    model.eval()
    program = torch.onnx.export(model, args, dynamo=True, opset_version=opset, dynamic_shapes=dynamic_shapes,
                                input_names=[INPUT_NAME], output_names=output_names(model), verbose=False)
    try:
        program.save(os.fspath(path), external_data=False)
    except OSError as err:
        raise OnnxExportError(f"cannot write {os.fspath(path)} ({err.strerror}); choose a writable path") from None


def check_writable(path: str | os.PathLike) -> None:
    """Raise `OnnxExportError` for a path that is a folder or lies in no folder (before any export)."""
    where = os.fspath(path)
    if os.path.isdir(where):
        raise OnnxExportError(f"{where} is a directory; give a file path such as {os.path.join(where, 'model.onnx')}")
    folder = os.path.dirname(os.path.abspath(where))
    if not os.path.isdir(folder):
        raise OnnxExportError(f"cannot write {where} (folder {folder} does not exist); choose a writable path")


@dataclass(frozen=True)
class OnnxCheck:
    """One onnxruntime run of an exported file against eager PyTorch on the same input."""

    max_abs_error: float  # largest |onnxruntime - eager| over every element of every output
    relative_error: float  # the largest, over outputs, of max |difference| / max |eager|
    tolerance: float  # the check passes when relative_error <= tolerance
    input_shape: tuple[int, ...]

    @property
    def passed(self) -> bool:
        return self.relative_error <= self.tolerance

    def describe(self) -> str:
        """One line: the measured errors against the tolerance."""
        verdict = "within" if self.passed else "ABOVE"
        return (f"onnxruntime vs eager on {list(self.input_shape)}: max abs error {self.max_abs_error:.2e}, "
                f"relative {self.relative_error:.2e} ({verdict} tolerance {self.tolerance:.0e})")


def eager_outputs(model: nn.Module, images: Tensor) -> dict[str, Tensor]:
    """The model's eval-mode outputs on `images`, by ONNX output name."""
    model.eval()
    with torch.no_grad():
        outputs = model(images)
    if isinstance(outputs, Mapping):
        return {f"{LEVEL_PREFIX}{level}": value for level, value in outputs.items()}
    return {LOGITS_NAME: outputs}


def run_onnx(path: str | os.PathLike, images: Tensor) -> dict[str, Tensor]:
    """One run of an ONNX file on onnxruntime's CPU provider, outputs by name.

    onnxruntime uses as many threads as torch does (`torch.get_num_threads()`).
    """
    require_onnx_packages()
    import onnxruntime  # the optional extra: imported only here

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = torch.get_num_threads()
    options.inter_op_num_threads = 1
    session = onnxruntime.InferenceSession(os.fspath(path), options, providers=["CPUExecutionProvider"])
    names = [output.name for output in session.get_outputs()]
    values = session.run(names, {INPUT_NAME: images.numpy()})
    return {name: torch.from_numpy(value) for name, value in zip(names, values)}


def measure_errors(onnx: Mapping[str, Tensor], eager: Mapping[str, Tensor]) -> tuple[float, float]:
    """(max abs error, relative error) of onnxruntime's outputs against eager's, as `OnnxCheck`.

    Raises:
        OnnxExportError: the two sets of names or shapes differ (the file is not this model's).
    """
    if list(onnx) != list(eager):
        raise OnnxExportError(f"the ONNX outputs are {list(onnx)}; this model's are {list(eager)}")
    max_abs, relative = 0.0, 0.0
    for name, expected in eager.items():
        if onnx[name].shape != expected.shape:
            raise OnnxExportError(f"ONNX output {name} has shape {list(onnx[name].shape)}; "
                                  f"this model's is {list(expected.shape)}")
        difference = (onnx[name] - expected).abs().max().item()
        scale = expected.abs().max().item()
        max_abs = max(max_abs, difference)
        relative = max(relative, difference / scale if scale > 0 else difference)
    return max_abs, relative


def check_onnx(path: str | os.PathLike, model: nn.Module, image_size: int, *, batch: int = 1,
               seed: int = CHECK_SEED, tolerance: float = TOLERANCE) -> OnnxCheck:
    """Run the ONNX file once on a seeded [batch, 3, S, S] input and compare it with the model.

    Raises:
        OnnxExportError: the extra is missing, or the file's outputs are not this model's.
    """
    images = example_images(image_size, batch, seed)
    max_abs, relative = measure_errors(run_onnx(path, images), eager_outputs(model, images))
    return OnnxCheck(max_abs, relative, tolerance, tuple(images.shape))
