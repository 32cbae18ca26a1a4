"""A small JSON file that rebuilds a SpineNet in PyTorch: format tag, spec, scaling.

`save_torch_spec` writes it (`nas export --format torch`); `build_spinenet` reads it (json only,
never pickle) or takes an `ArchSpec` directly, and returns a `SpineNet`.
"""

from __future__ import annotations

import json
import os

from proxy_trainer.modeling.detector import build_backbone
from proxy_trainer.modeling.model_config import ModelConfig
from proxy_trainer.modeling.spinenet import SpineNet
from search_space.errors import UserInputError
from search_space.scaling import get_scaling
from search_space.serialize import parse_json_text, read_text_file, spec_from_dict, spec_to_dict
from search_space.spec import ArchSpec

FORMAT_TAG = "spinenet-nas/torch-spinenet/v1"
DEFAULT_MODEL = "49"  # scaling used when neither the file nor the caller names one


class TorchSpecError(UserInputError):
    """A torch spec file is missing, unreadable or not in the expected form."""


def save_torch_spec(path: str | os.PathLike, spec: ArchSpec, model: str | None) -> None:
    """Write {format, model, spec, scaling} as JSON.

    Args:
        path: output file.
        spec: the architecture.
        model: SpineNet scaling id ('49S', '49', '96', '143', '143L', '190'), or None for '49'.
    Raises:
        UserInputError: unknown model id or unwritable path.
    """
    model = model or DEFAULT_MODEL
    data = {"format": FORMAT_TAG, "model": model, "spec": spec_to_dict(spec), "scaling": get_scaling(model).to_dict()}
    try:
        with open(path, "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=2)
    except OSError as err:
        raise TorchSpecError(f"cannot write {os.fspath(path)} ({err.strerror}); choose a writable path") from None


def load_torch_spec(path: str | os.PathLike) -> tuple[ArchSpec, str]:
    """Read a file written by `save_torch_spec`; returns (spec, model id).

    Raises:
        UserInputError: unreadable file, bad JSON, wrong format tag, bad spec or model id.
    """
    data = parse_json_text(read_text_file(path), os.fspath(path))
    if not isinstance(data, dict) or data.get("format") != FORMAT_TAG:
        raise TorchSpecError(f"{os.fspath(path)} is not a torch spec file (expected format '{FORMAT_TAG}')")
    model = data.get("model", DEFAULT_MODEL)
    get_scaling(model)
    return spec_from_dict(data.get("spec")), model


def build_spinenet(path_or_spec: ArchSpec | str | os.PathLike, model: str | None = None) -> SpineNet:
    """A SpineNet from a torch spec file or an `ArchSpec`.

    Args:
        path_or_spec: a file written by `save_torch_spec`, or a spec.
        model: scaling id; overrides the file's; default '49' for a bare spec.
    Raises:
        UserInputError: bad file or unknown model id.
    """
    if isinstance(path_or_spec, ArchSpec):
        spec, stored = path_or_spec, DEFAULT_MODEL
    else:
        spec, stored = load_torch_spec(path_or_spec)
    return build_backbone(spec, ModelConfig.from_scaling(model or stored))
