"""Loading a spec from a SOURCE string: a built-in name or a spec file (JSON or TF list).

The CLI's resolver (`nas/sources.py`) adds the sources that need more than this package
(`r50-fpn`, `RUN:TRIAL`, `RUN:best`) and falls back to `load_spec` for the rest.
"""

from __future__ import annotations

import os

from search_space.builtins import BUILTIN_SPECS
from search_space.errors import SpecError
from search_space.serialize import read_text_file, spec_from_json
from search_space.spec import ArchSpec
from search_space.tf_format import from_tf_text


def spec_from_text(text: str, where: str, default_name: str) -> ArchSpec:
    """Parse spec text: JSON when it starts with '{', otherwise a TF block-spec list."""
    if text.lstrip().startswith("{"):
        return spec_from_json(text, where, default_name)
    return from_tf_text(text, default_name, where)


def load_spec_file(path: str | os.PathLike) -> ArchSpec:
    """Read and validate a spec file; JSON or TF format is told apart by its first character."""
    text = read_text_file(path)
    stem = os.path.splitext(os.path.basename(os.fspath(path)))[0] or "spec"
    return spec_from_text(text, os.fspath(path), stem)


def load_spec(source: str) -> ArchSpec:
    """A built-in spec by name, or a spec file by path.

    Raises:
        SpecError: unknown name / unreadable file / invalid spec, in one line.
    """
    if source in BUILTIN_SPECS:
        return BUILTIN_SPECS[source]
    if os.path.exists(source):
        return load_spec_file(source)
    raise SpecError(
        f"'{source}' is neither a built-in spec nor an existing file; "
        f"built-in specs: {', '.join(BUILTIN_SPECS)}"
    )
