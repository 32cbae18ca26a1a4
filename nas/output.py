"""Writing CLI outputs: files or stdout, with unwritable paths turned into one-line errors."""

from __future__ import annotations

import os
import sys

from search_space.errors import UserInputError


def write_text(path: str | None, text: str) -> None:
    """Write `text` to `path`, or to stdout when path is None or '-'.

    Raises:
        UserInputError: the path cannot be written (missing folder, permissions, a directory).
    """
    if path in (None, "-"):
        sys.stdout.write(text)
        return
    if os.path.isdir(path):
        raise UserInputError(f"{path} is a directory; give a file path for -o")
    try:
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(text)
    except OSError as err:
        raise UserInputError(f"cannot write {path} ({err.strerror}); choose a writable path") from None
