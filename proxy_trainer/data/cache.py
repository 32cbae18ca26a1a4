"""The synthetic data cache: `$SPINENET_NAS_CACHE` or `~/.cache/spinenet-nas`, outside git.

A data set lives in a folder named by its generator parameters (and the generator version), so
`data=synthetic` with the same parameters reuses it. It is generated into a temporary sibling and
renamed into place, so concurrent trials never see a half-written set. A set cached before the
generator wrote masks (same images and boxes, no `segmentation`) gets its annotation file
rewritten with them on first use, through a temporary file renamed over the old one.
"""

from __future__ import annotations

import os
import shutil
import tempfile

from proxy_trainer.data.errors import DataError
from proxy_trainer.data.synth import (
    ANNOTATIONS_NAME,
    GENERATOR_VERSION,
    IMAGES_DIR,
    generate_synthetic,
    has_masks,
    write_synthetic_annotations,
)

CACHE_ENV = "SPINENET_NAS_CACHE"


def cache_root(cache_dir: str | None = None) -> str:
    """The cache folder: `cache_dir`, else `$SPINENET_NAS_CACHE`, else `~/.cache/spinenet-nas`."""
    return os.path.abspath(cache_dir or os.environ.get(CACHE_ENV) or os.path.expanduser("~/.cache/spinenet-nas"))


def synthetic_key(images: int, size: int, seed: int, scales: str = "uniform") -> str:
    """Folder name of one synthetic data set in the cache (the uniform profile keeps its old name)."""
    profile = "" if scales == "uniform" else f"-{scales}"
    return f"synth-v{GENERATOR_VERSION}-n{images}-s{size}-seed{seed}{profile}"


def ensure_synthetic(
    images: int, size: int, seed: int, cache_dir: str | None = None, scales: str = "uniform", masks: bool = True
) -> tuple[str, str]:
    """Generate the synthetic data set into the cache unless it is there already; with `masks`, a
    set cached before masks gets them (which reads its annotation file once more: training data
    without masks pass `masks=False` and skip that).

    Returns:
        (images folder, annotation file).
    Raises:
        DataError: the cache folder cannot be created or written.
    """
    root = cache_root(cache_dir)
    final = os.path.join(root, synthetic_key(images, size, seed, scales))
    annotations = os.path.join(final, ANNOTATIONS_NAME)
    try:
        if not os.path.isfile(annotations):
            os.makedirs(root, exist_ok=True)
            staging = tempfile.mkdtemp(prefix=".staging-", dir=root)
            generate_synthetic(staging, images=images, size=size, seed=seed, scales=scales)
            _publish(staging, final)
        elif masks and not has_masks(annotations):
            _add_masks(annotations, images, size, seed, scales)
    except OSError as err:
        raise DataError(f"synthetic data cache {root} is not writable ({err.strerror}); set {CACHE_ENV}") from None
    return os.path.join(final, IMAGES_DIR), annotations


def _add_masks(annotations: str, images: int, size: int, seed: int, scales: str) -> None:
    """Rewrite a cached annotation file from before masks with them (atomically)."""
    handle, staging = tempfile.mkstemp(prefix=".staging-", suffix=".json", dir=os.path.dirname(annotations))
    os.close(handle)
    try:
        write_synthetic_annotations(staging, images, size, seed, scales)
        os.replace(staging, annotations)
    finally:
        if os.path.exists(staging):
            os.remove(staging)


def _publish(staging: str, final: str) -> None:
    try:
        os.rename(staging, final)
    except OSError:
        if not os.path.isfile(os.path.join(final, ANNOTATIONS_NAME)):
            raise
        shutil.rmtree(staging, ignore_errors=True)  # another process published the same set first
