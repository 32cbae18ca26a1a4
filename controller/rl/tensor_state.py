"""Torch state (module and optimizer state dicts) as exact JSON-able data and back.

float32 values survive the trip exactly (float32 -> Python float -> float32), so a controller
restored from JSON continues bit for bit.
"""

from __future__ import annotations

from typing import Any

import torch


def to_plain(value: Any) -> Any:
    """Nested dicts/lists/tensors -> JSON-able data (tensors become tagged dicts)."""
    if isinstance(value, torch.Tensor):
        return {"__tensor__": value.tolist(), "dtype": str(value.dtype).removeprefix("torch.")}
    if isinstance(value, dict):
        return {"__keys__": [to_plain(k) for k in value], "__values__": [to_plain(v) for v in value.values()]}
    if isinstance(value, (list, tuple)):
        return [to_plain(v) for v in value]
    return value


def from_plain(value: Any) -> Any:
    """Inverse of `to_plain`."""
    if isinstance(value, dict) and "__tensor__" in value:
        return torch.tensor(value["__tensor__"], dtype=getattr(torch, value["dtype"]))
    if isinstance(value, dict) and "__keys__" in value:
        return {from_plain(k): from_plain(v) for k, v in zip(value["__keys__"], value["__values__"])}
    if isinstance(value, list):
        return [from_plain(v) for v in value]
    return value
