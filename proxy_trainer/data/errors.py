"""`DataError`: a data set a user pointed us at cannot be used (missing folder or file, not COCO
JSON, impossible boxes). One line naming the file and the problem; the CLI exits 2."""

from __future__ import annotations

from search_space.errors import UserInputError


class DataError(UserInputError):
    """A data set (images folder or annotation file) cannot be used as given."""
