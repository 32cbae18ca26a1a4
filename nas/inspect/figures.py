"""Matplotlib figures without pyplot: creation, deterministic SVG text, and saving by extension.

Figures are plain `matplotlib.figure.Figure` objects (no global pyplot state, no GUI backend),
so every verb works headless. SVG output is reproducible: fixed hash salt, no date metadata.
"""

from __future__ import annotations

import io
import os

from matplotlib import rcParams
from matplotlib.figure import Figure

from search_space.errors import UserInputError

FIGURE_FORMATS = ("svg", "png")
PNG_DPI = 120  # sharp enough to read block labels, small enough to commit
SVG_METADATA = {"Date": None, "Creator": "spinenet-nas"}  # no timestamps: identical reruns
PNG_METADATA = {"Software": "spinenet-nas"}
rcParams["svg.hashsalt"] = "spinenet-nas"  # stable element ids across runs
rcParams["svg.fonttype"] = "none"  # keep text as text: smaller files, searchable labels


def new_figure(width: float, height: float) -> Figure:
    """A blank figure of the given size in inches."""
    return Figure(figsize=(width, height), layout="constrained")


def figure_format(path: str) -> str:
    """The format of an output path from its extension.

    Raises:
        UserInputError: the extension is neither .svg nor .png.
    """
    ext = os.path.splitext(path)[1].lower().lstrip(".")
    if ext not in FIGURE_FORMATS:
        raise UserInputError(f"cannot tell the figure format of '{path}'; end the file name in .svg or .png")
    return ext


def check_output_file(path: str) -> str:
    """Fail early, before any rendering, when `path` cannot be a new or replaced file; returns it.

    Raises:
        UserInputError: it is a directory, its folder is missing, or the folder is not writable.
    """
    folder = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        raise UserInputError(f"{path} is a directory; give a file path for -o")
    if not os.path.isdir(folder):
        raise UserInputError(f"cannot write {path} (no folder {folder}); choose a writable path")
    if not os.access(folder, os.W_OK):
        raise UserInputError(f"cannot write {path} (folder not writable); choose a writable path")
    return path


def svg_text(fig: Figure) -> str:
    """The figure as SVG text (for inlining into HTML)."""
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", metadata=SVG_METADATA)
    return buffer.getvalue()


def save_figure(fig: Figure, path: str) -> str:
    """Write a figure to `path` as SVG or PNG (by extension); returns the path.

    Raises:
        UserInputError: unknown extension, or the path cannot be written.
    """
    fmt = figure_format(path)
    if os.path.isdir(path):
        raise UserInputError(f"{path} is a directory; give a file path ending in .{fmt}")
    metadata = SVG_METADATA if fmt == "svg" else PNG_METADATA
    try:
        fig.savefig(path, format=fmt, dpi=PNG_DPI, metadata=metadata)
    except OSError as err:
        raise UserInputError(f"cannot write {path} ({err.strerror}); choose a writable path") from None
    return path


def output_folder(path: str) -> str:
    """Create folder `path` if needed; returns it.

    Raises:
        UserInputError: it is a file or cannot be created.
    """
    if os.path.isfile(path):
        raise UserInputError(f"{path} is a file; give a folder for -o")
    try:
        os.makedirs(path, exist_ok=True)
    except OSError as err:
        raise UserInputError(f"cannot create folder {path} ({err.strerror}); choose a writable path") from None
    return path


def save_png_and_svg(fig: Figure, folder: str, stem: str) -> list[str]:
    """Write `<folder>/<stem>.png` and `.svg`; returns both paths.

    Raises:
        UserInputError: the folder cannot be created or written.
    """
    output_folder(folder)
    return [save_figure(fig, os.path.join(folder, f"{stem}.{fmt}")) for fmt in ("png", "svg")]
