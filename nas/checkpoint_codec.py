"""Controller checkpoints as compact bytes for the results store: no pickle, no JSON floats.

A controller's `state_dict()` is plain JSON data in which torch tensors appear as tagged lists
(`{"__tensor__": [...], "dtype": "float32"}`, see `controller/rl/tensor_state.py`). Written as
JSON text, the PPO controller's 154k policy weights plus Adam's two moments take about 10 MB;
here every tagged tensor becomes a numpy array of its own dtype (4 bytes per float32), stored
in one `.npz` archive next to the JSON skeleton of everything else. Reading uses
`numpy.load(..., allow_pickle=False)`, so a crafted checkpoint can hold data, never code.

float32 values make the round trip exactly (float32 -> numpy float32 -> Python float), so a
controller restored from these bytes continues bit for bit, as it did from JSON.
"""

from __future__ import annotations

import io
import json
from typing import Any

import numpy as np

SKELETON = "skeleton"  # archive member holding the JSON skeleton (UTF-8 bytes as uint8)
TENSOR_TAG = "__tensor__"
ARRAY_TAG = "__array__"  # placeholder in the skeleton: the archive member holding the values
DTYPES = ("float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "bool")


class CheckpointFormatError(ValueError):
    """Bytes that are not a checkpoint written by `encode_state`."""


def encode_state(state: Any) -> bytes:
    """A JSON-able controller state as `.npz` bytes (tagged tensors as typed arrays)."""
    arrays: dict[str, np.ndarray] = {}
    skeleton = _pack(state, arrays)
    arrays[SKELETON] = np.frombuffer(json.dumps(skeleton, sort_keys=True).encode("utf-8"), dtype=np.uint8)
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    return buffer.getvalue()


def decode_state(blob: bytes) -> Any:
    """Inverse of `encode_state`.

    Raises:
        CheckpointFormatError: the bytes are not such an archive (or hold object arrays).
    """
    try:
        with np.load(io.BytesIO(blob), allow_pickle=False) as archive:
            arrays = {name: archive[name] for name in archive.files}
        skeleton = json.loads(arrays.pop(SKELETON).tobytes().decode("utf-8"))
        return _unpack(skeleton, arrays)
    except (OSError, ValueError, KeyError, EOFError) as err:  # zip, npy header, JSON or member errors
        raise CheckpointFormatError(f"not a controller checkpoint ({type(err).__name__}: {err})") from None


def _pack(value: Any, arrays: dict[str, np.ndarray]) -> Any:
    if isinstance(value, dict) and TENSOR_TAG in value and value.get("dtype") in DTYPES:
        name = f"t{len(arrays)}"
        arrays[name] = np.asarray(value[TENSOR_TAG], dtype=value["dtype"])
        return {ARRAY_TAG: name, "dtype": value["dtype"]}
    if isinstance(value, dict):
        return {key: _pack(item, arrays) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_pack(item, arrays) for item in value]
    return value


def _unpack(value: Any, arrays: dict[str, np.ndarray]) -> Any:
    if isinstance(value, dict) and ARRAY_TAG in value:
        return {TENSOR_TAG: arrays[value[ARRAY_TAG]].tolist(), "dtype": value["dtype"]}
    if isinstance(value, dict):
        return {key: _unpack(item, arrays) for key, item in value.items()}
    if isinstance(value, list):
        return [_unpack(item, arrays) for item in value]
    return value
