"""JSON form of specs (docs/design.md §3.1), strict about types, and safe reading of spec files.

On disk: {"name", "min_level", "max_level", "stem": [[level, block_fn], ...],
"blocks": [{"level", "block_fn", "inputs", "is_output"}, ...]}. A file without "stem" means
SpineNet's stem. Optional: "note", and "damage" (a Table 9 connection ablation, `ablations.py`).
Extra keys are allowed (additive fields) and ignored.
"""

from __future__ import annotations

import json
import os
from typing import Any

from search_space.errors import SpecError
from search_space.spec import SPINENET_STEM, ArchSpec, BlockSpec
from search_space.validation import check_block_fields, is_int

MAX_SPEC_FILE_BYTES = 4 * 1024 * 1024  # a spec is a few KB; refuse anything absurd


def spec_to_dict(spec: ArchSpec) -> dict[str, Any]:
    """The plain JSON-ready dict of a spec."""
    data: dict[str, Any] = {
        "name": spec.name,
        "min_level": spec.min_level,
        "max_level": spec.max_level,
        "stem": [[level, fn] for level, fn in spec.stem],
        "blocks": [
            {"level": b.level, "block_fn": b.block_fn, "inputs": list(b.inputs), "is_output": b.is_output}
            for b in spec.blocks
        ],
    }
    if spec.note:
        data["note"] = spec.note
    if spec.damage:
        data["damage"] = spec.damage
    return data


def spec_to_json(spec: ArchSpec, indent: int | None = 2) -> str:
    """The JSON text of a spec."""
    return json.dumps(spec_to_dict(spec), indent=indent)


def _field(data: dict, key: str, where: str, default: Any = ...) -> Any:
    if key not in data:
        if default is ...:
            raise SpecError(f"{where} has no '{key}' field; add it (see the JSON form in the README)")
        return default
    return data[key]


def _block_from_dict(entry: Any, k: int) -> BlockSpec:
    where = f"block {k}"
    if not isinstance(entry, dict):
        raise SpecError(f"{where} is {type(entry).__name__}; each block must be a JSON object")
    level = _field(entry, "level", where)
    block_fn = _field(entry, "block_fn", where)
    inputs = _field(entry, "inputs", where)
    is_output = _field(entry, "is_output", where, False)
    check_block_fields(level, block_fn, inputs, is_output, where)
    return BlockSpec(level, block_fn, tuple(inputs), is_output)


def _level_field(data: dict, key: str, default: int) -> int:
    value = data.get(key, default)
    if not is_int(value):
        raise SpecError(f"spec field '{key}' is {value!r}; it must be an integer level in [1, 7]")
    return value


def _damage_field(data: dict) -> str:
    value = data.get("damage", "")
    if not isinstance(value, str):
        raise SpecError(f"spec field 'damage' is {value!r}; it must be a string (see search_space/ablations.py)")
    return value


def spec_from_dict(data: Any, default_name: str = "spec") -> ArchSpec:
    """Build a validated spec from its JSON dict.

    Raises:
        SpecError: wrong JSON types or any broken spec rule, with the place named.
    """
    if not isinstance(data, dict):
        raise SpecError(f"a spec must be a JSON object, not {type(data).__name__}")
    name = data.get("name", default_name)
    if not isinstance(name, str) or not name:
        raise SpecError(f"spec field 'name' is {name!r}; it must be a non-empty string")
    blocks = _field(data, "blocks", "spec")
    if not isinstance(blocks, list):
        raise SpecError(f"spec field 'blocks' is {type(blocks).__name__}; it must be a list of blocks")
    stem = data.get("stem", [list(s) for s in SPINENET_STEM])
    if not isinstance(stem, list):
        raise SpecError(f"spec field 'stem' is {type(stem).__name__}; it must be a list of [level, block_fn]")
    note = data.get("note", "")
    return ArchSpec(
        name=name,
        blocks=tuple(_block_from_dict(entry, k) for k, entry in enumerate(blocks)),
        stem=tuple(tuple(s) if isinstance(s, list) else s for s in stem),
        min_level=_level_field(data, "min_level", 3),
        max_level=_level_field(data, "max_level", 7),
        note=note if isinstance(note, str) else "",
        damage=_damage_field(data),
    )


def _reject_constant(token: str) -> Any:
    raise SpecError(f"the JSON holds {token}; spec values must be finite numbers")


def parse_json_text(text: str, where: str) -> Any:
    """json.loads that refuses NaN/Infinity and survives absurdly deep nesting."""
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except RecursionError:
        raise SpecError(f"{where} is nested too deeply to be a spec; give a spec JSON file") from None
    except json.JSONDecodeError as err:
        raise SpecError(
            f"{where} is not valid JSON (line {err.lineno}, column {err.colno}: {err.msg}); "
            "give a spec JSON file or a TF block-spec list"
        ) from None


def read_text_file(path: str | os.PathLike) -> str:
    """Read a small text file, turning every OS problem into one `SpecError` line."""
    path = os.fspath(path)
    if os.path.isdir(path):
        raise SpecError(f"{path} is a directory; give a spec file")
    try:
        size = os.path.getsize(path)
        if size > MAX_SPEC_FILE_BYTES:
            raise SpecError(f"{path} is {size} bytes, too large for a spec file (limit {MAX_SPEC_FILE_BYTES})")
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except FileNotFoundError:
        raise SpecError(f"{path} does not exist; give a built-in name or an existing spec file") from None
    except PermissionError:
        raise SpecError(f"{path} cannot be read (permission denied); fix its permissions") from None
    except UnicodeDecodeError:
        raise SpecError(f"{path} is not UTF-8 text; give a spec JSON file or a TF block-spec list") from None
    except OSError as err:
        raise SpecError(f"{path} cannot be read ({err.strerror}); give a readable spec file") from None


def spec_from_json(text: str, where: str = "spec", default_name: str = "spec") -> ArchSpec:
    """Parse and validate a spec from JSON text."""
    try:
        return spec_from_dict(parse_json_text(text, where), default_name)
    except RecursionError:
        raise SpecError(f"{where} is nested too deeply to be a spec") from None
