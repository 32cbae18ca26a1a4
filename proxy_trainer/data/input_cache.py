"""The input cache: a data split's images decoded and letterboxed once to a tier's input size, kept
on disk as one memory-mapped uint8 array that every trial process reads concurrently.

Not to be confused with `prepare.PreparedData` (the validated annotation records) or the
synthetic data cache (`cache.py`, the generated PNG files): this holds pixels, ready to train on.

Layout of one cache folder, `<root>/<key>/` (`key`: a digest of the split's image paths and
sizes, the input size and the format version, so another data set or size never reads it):
- `pixels.npy`: uint8 [N, 3, S, S], image i letterboxed exactly as `images.letterbox` does
  (decoded by the same `read_rgb`, so a cached image equals a decoded one bit for bit);
- `scales.npy`: float64 [N], the letterbox scale of each image (boxes and masks map with it);
- `index.json`: format version, input size, count and the digest, written last.
Boxes are mapped once per process from the records (`DetectionDataset` keeps the mapped targets),
masks per access from the compressed RLE already in memory: a letterboxed copy of COCO's 860k
masks at 512 px would take ~27 GB, more than the pixels' disk space saves in decoding.

Concurrency: a cache is built under an exclusive `flock` on `<root>/<key>.lock` into a staging
folder, then renamed into place (atomic on one filesystem); a process that finds the lock held
waits and then reads the finished cache. The staging folder of a build that was killed is
removed by the next build of the same key (which holds the lock, so nobody else is writing it). Readers open the array read-only with `mmap_mode="r"`,
lazily in each process (a DataLoader worker opens its own map; the array is never pickled).

Where: `data.input_cache_dir`, else `<synthetic cache root>/inputs` (node-local by default). A
memory map needs a local or shared POSIX filesystem: with an `s3://` `cluster.storage` each node
builds its own copy on its local disk on first use (the cache is never put in the object store).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Sequence

import numpy as np
import torch

from proxy_trainer.data.cache import cache_root
from proxy_trainer.data.errors import DataError
from proxy_trainer.data.records import ImageRecord

FORMAT_VERSION = 1
INDEX_FILE = "index.json"
PROGRESS_FROM = 1000  # sets this large report progress while they are built


def inputs_root(cache_dir: str | None = None) -> str:
    """The folder holding input caches: `cache_dir`, else `<synthetic cache root>/inputs`."""
    return os.path.abspath(cache_dir) if cache_dir else os.path.join(cache_root(), "inputs")


def cache_key(records: Sequence[ImageRecord], image_size: int) -> str:
    """Folder name of a split's cache: input size and a digest of its images (path, width, height)."""
    digest = hashlib.sha256()
    digest.update(f"v{FORMAT_VERSION}:{image_size}:{len(records)}".encode())
    for record in records:
        digest.update(f"\n{record.path}\t{record.width}\t{record.height}".encode())
    return f"s{image_size}-n{len(records)}-{digest.hexdigest()[:16]}"


class InputCache:
    """A built cache folder, read lazily per process (module docstring)."""

    def __init__(self, folder: str) -> None:
        self.folder = folder
        with open(os.path.join(folder, INDEX_FILE), encoding="utf-8") as handle:
            self.index = json.load(handle)
        self.scales = np.load(os.path.join(folder, "scales.npy"))
        self._pixels: np.ndarray | None = None
        self._pid: int | None = None

    def __len__(self) -> int:
        return int(self.index["count"])

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_pixels": None, "_pid": None}  # each process maps the file itself

    def pixels(self, index: int) -> tuple[torch.Tensor, float]:
        """Image `index` as uint8 [3, S, S] (a copy, safe to modify) and its letterbox scale."""
        if self._pixels is None or self._pid != os.getpid():
            self._pixels = np.load(os.path.join(self.folder, "pixels.npy"), mmap_mode="r")
            self._pid = os.getpid()
        return torch.from_numpy(np.array(self._pixels[index])), float(self.scales[index])

    def disk_bytes(self) -> int:
        """Bytes the cache takes on disk."""
        return sum(os.path.getsize(os.path.join(self.folder, name)) for name in os.listdir(self.folder))


def find_input_cache(records: Sequence[ImageRecord], image_size: int, cache_dir: str | None = None) -> str | None:
    """The folder of the split's built cache, or None when it is not built."""
    folder = os.path.join(inputs_root(cache_dir), cache_key(records, image_size))
    return folder if os.path.isfile(os.path.join(folder, INDEX_FILE)) else None


def ensure_input_cache(records: Sequence[ImageRecord], image_size: int, cache_dir: str | None = None,
                       announce: Callable[[str], None] | None = print) -> InputCache:
    """The split's input cache, built first if it is not there (once, whoever asks first).

    Raises:
        DataError: an image cannot be read, or the cache folder cannot be written.
    """
    root = inputs_root(cache_dir)
    key = cache_key(records, image_size)
    final = os.path.join(root, key)
    if not os.path.isfile(os.path.join(final, INDEX_FILE)):
        try:
            os.makedirs(root, exist_ok=True)
            with _locked(os.path.join(root, f"{key}.lock")):
                if not os.path.isfile(os.path.join(final, INDEX_FILE)):  # another process may have built it
                    _build(records, image_size, root, final, announce)
        except OSError as err:
            raise DataError(f"input cache folder {root} is not writable ({err.strerror}); "
                            "set data.input_cache_dir to a writable local folder, or data.input_cache=false") from None
    return InputCache(final)


@contextlib.contextmanager
def _locked(path: str):
    with open(path, "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)  # waits while another process builds the same cache
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _build(records: Sequence[ImageRecord], image_size: int, root: str, final: str,
           announce: Callable[[str], None] | None) -> None:
    """Decode and letterbox every image into a staging folder, then rename it into place."""
    size_gb = len(records) * 3 * image_size**2 / 1e9
    if announce:
        announce(f"input cache: letterboxing {len(records)} images to {image_size} px once into {final} "
                 f"({size_gb:.2f} GB)")
    key = os.path.basename(final)
    for stale in (name for name in os.listdir(root) if name.startswith(f".staging-{key}-")):
        shutil.rmtree(os.path.join(root, stale), ignore_errors=True)  # a build killed before it ended; we hold its lock
    staging = tempfile.mkdtemp(prefix=f".staging-{key}-", dir=root)
    try:
        pixels = np.lib.format.open_memmap(os.path.join(staging, "pixels.npy"), mode="w+", dtype=np.uint8,
                                           shape=(len(records), 3, image_size, image_size))
        scales = np.zeros(len(records), dtype=np.float64)
        _fill(records, image_size, pixels, scales, announce)
        pixels.flush()
        del pixels
        np.save(os.path.join(staging, "scales.npy"), scales)
        index = {"version": FORMAT_VERSION, "image_size": image_size, "count": len(records), "key": key}
        with open(os.path.join(staging, INDEX_FILE), "w", encoding="utf-8") as handle:
            json.dump(index, handle)
        os.rename(staging, final)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _fill(records: Sequence[ImageRecord], image_size: int, pixels: np.ndarray, scales: np.ndarray,
          announce: Callable[[str], None] | None) -> None:
    """Letterbox each record into its row, reporting progress every tenth of the way (sets of
    `PROGRESS_FROM` images or more)."""
    from proxy_trainer.data.images import checked_rgb, letterbox

    started, step = time.monotonic(), max(1, len(records) // 10)
    report = announce if len(records) >= PROGRESS_FROM else None
    for i, record in enumerate(records):
        canvas, scales[i] = letterbox(checked_rgb(record), image_size)
        pixels[i] = canvas.numpy()
        if report and (i + 1) % step == 0 and i + 1 < len(records):
            rate = (i + 1) / max(time.monotonic() - started, 1e-9)
            report(f"input cache: {i + 1}/{len(records)} images, ETA {(len(records) - i - 1) / rate:.0f} s")


def split_caches(prepared, image_size: int, data_cfg, announce: Callable[[str], None] | None = print) -> tuple:
    """(training split's cache, reward split's cache) of prepared data at `image_size`, built where
    missing; (None, None) when the data config does not use the input cache."""
    if not data_cfg.uses_input_cache:
        return None, None
    return tuple(ensure_input_cache(split.images, image_size, data_cfg.input_cache_dir, announce)
                 for split in (prepared.train, prepared.val))


def cache_state(prepared, image_size: int, data_cfg) -> dict:
    """What `nas data check` reports: whether trainings use the cache and, per split, its folder
    and size on disk when built (else where it will be made on first use)."""
    state = {"used": data_cfg.uses_input_cache, "setting": data_cfg.input_cache, "image_size": image_size}
    for name, split in (("train", prepared.train), ("val", prepared.val)):
        folder = find_input_cache(split.images, image_size, data_cfg.input_cache_dir)
        if folder is None:
            state[name] = {"built": False,
                           "folder": os.path.join(inputs_root(data_cfg.input_cache_dir), cache_key(split.images, image_size))}
        else:
            state[name] = {"built": True, "folder": folder, "bytes": InputCache(folder).disk_bytes()}
    return state
