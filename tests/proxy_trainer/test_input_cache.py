"""The input cache: cached pixels equal decoded ones bit for bit, a training reading the cache is
the training decoding the files (same losses, same AP), two processes starting together build it
once, workers map it without copying it through pickling, and its key follows the data and size."""

from __future__ import annotations

import dataclasses
import multiprocessing
import os
import pickle

import pytest
import torch

from proxy_trainer.config import DataConfig
from proxy_trainer.data.errors import DataError
from proxy_trainer.data.images import DetectionDataset, collate
from proxy_trainer.data.input_cache import cache_key, ensure_input_cache, find_input_cache, split_caches
from proxy_trainer.data.prepare import prepare_data
from proxy_trainer.train import train_and_evaluate
from search_space import BUILTIN_SPECS
from tests.proxy_trainer.test_train import smoke_config

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def data_cfg(tmp_path_factory):
    root = tmp_path_factory.mktemp("data")
    return DataConfig(synth_images=24, synth_size=64, heldout_images=8, cache_dir=str(root / "synth"),
                      input_cache=True, input_cache_dir=str(root / "inputs"))


@pytest.fixture(scope="module")
def prepared(data_cfg):
    return prepare_data(data_cfg)


def test_cached_pixels_and_targets_equal_decoded_ones(prepared, data_cfg):
    lines = []
    cache = ensure_input_cache(prepared.train.images, 48, data_cfg.input_cache_dir, announce=lines.append)
    assert len(cache) == 16 and lines[0].startswith("input cache: letterboxing 16 images to 48 px once")
    decoded, cached = DetectionDataset(prepared.train, 48), DetectionDataset(prepared.train, 48, inputs=cache)
    for i in range(len(decoded)):
        (a, ta, ma), (b, tb, mb) = decoded[i], cached[i]
        assert torch.equal(a, b) and ma == mb
        assert all(torch.equal(ta[k], tb[k]) for k in ("boxes", "labels"))
    assert cache.disk_bytes() > 16 * 3 * 48 * 48
    again = []
    assert ensure_input_cache(prepared.train.images, 48, data_cfg.input_cache_dir, again.append).folder == cache.folder
    assert again == []  # built once: the second call only maps it


def test_key_follows_images_and_size(prepared):
    train, val = prepared.train.images, prepared.val.images
    assert cache_key(train, 48) == cache_key(list(train), 48)
    assert len({cache_key(train, 48), cache_key(train, 64), cache_key(val, 48), cache_key(train[:-1], 48)}) == 4


def test_pickled_cache_maps_again_and_workers_read_the_same_items(prepared, data_cfg):
    cache = ensure_input_cache(prepared.val.images, 48, data_cfg.input_cache_dir, announce=None)
    cache.pixels(0)
    assert len(pickle.dumps(cache)) < 10_000  # the mapped array is not carried along
    dataset = DetectionDataset(prepared.val, 48, inputs=cache)
    loader = torch.utils.data.DataLoader(dataset, batch_size=4, num_workers=2, collate_fn=collate,
                                         multiprocessing_context="spawn")
    images = [img for batch, _, _ in loader for img in batch]
    assert all(torch.equal(img, dataset[i][0]) for i, img in enumerate(images)) and len(images) == 8


def _build_in_process(args):
    records, folder, queue = args
    lines = []
    cache = ensure_input_cache(records, 40, folder, announce=lines.append)
    queue.put((cache.folder, len(lines) > 0))


def test_two_processes_starting_together_build_it_once(prepared, tmp_path):
    context = multiprocessing.get_context("fork")  # both start at once, without importing torch again
    queue = context.Queue()
    workers = [context.Process(target=_build_in_process, args=((prepared.train.images, str(tmp_path), queue),))
               for _ in range(2)]
    for worker in workers:
        worker.start()
    results = [queue.get(timeout=600) for _ in workers]  # a deadline for a loaded machine, not a timing
    for worker in workers:
        worker.join(timeout=600)
    assert results[0][0] == results[1][0] and sorted(built for _, built in results) == [False, True]
    assert [name for name in os.listdir(tmp_path) if name.startswith(".staging")] == []


def test_unwritable_folder_is_one_data_error(prepared, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(DataError, match="input cache folder .* is not writable"):
        ensure_input_cache(prepared.train.images, 48, str(blocker / "inputs"), announce=None)


def test_auto_uses_it_for_coco_only(prepared, tmp_path):
    off = DataConfig(synth_images=24, synth_size=64, heldout_images=8, input_cache_dir=str(tmp_path))
    assert not off.uses_input_cache and split_caches(prepared, 48, off) == (None, None)
    assert find_input_cache(prepared.train.images, 48, str(tmp_path)) is None
    assert DataConfig(kind="coco", images="x", annotations="y").uses_input_cache


def test_a_training_on_the_cache_is_the_training_on_the_files(data_cfg):
    proxy = smoke_config(epochs=1)
    cached = train_and_evaluate(BUILTIN_SPECS["r50-sd"], proxy, data_cfg)
    decoded = train_and_evaluate(BUILTIN_SPECS["r50-sd"], proxy, dataclasses.replace(data_cfg, input_cache=False))
    assert cached.loss == decoded.loss and dict(cached.metrics) == dict(decoded.metrics)


def test_the_cache_settings_leave_the_settings_hash_as_before(data_cfg):
    from proxy_trainer.provenance import settings_hash

    proxy, data = smoke_config().to_dict(), data_cfg.to_dict()
    before = {k: v for k, v in data.items() if k not in ("input_cache", "input_cache_dir")}
    assert settings_hash(proxy, data) == settings_hash(proxy, before)


def test_a_killed_build_leaves_nothing_the_next_build_keeps(prepared, tmp_path):
    key = cache_key(prepared.val.images, 32)
    stale = tmp_path / f".staging-{key}-12345"
    stale.mkdir(parents=True)
    (stale / "pixels.npy").write_bytes(b"half written")
    other = tmp_path / ".staging-another-key-1"
    other.mkdir()
    ensure_input_cache(prepared.val.images, 32, str(tmp_path), announce=None)
    assert not stale.exists() and other.exists()  # only this key's leftovers: another build may be running


def test_workers_hand_over_uint8_and_the_loader_serves_the_same_floats(prepared, data_cfg):
    from proxy_trainer.train import make_loaders

    cpu, proxy = torch.device("cpu"), smoke_config()
    plain = make_loaders(prepared, proxy, data_cfg, cpu)
    workers = make_loaders(prepared, proxy, dataclasses.replace(data_cfg, num_workers=2), cpu)
    assert workers.val.dataset.deliver_uint8 and not plain.val.dataset.deliver_uint8
    assert workers.val.dataset[0][0].dtype == torch.uint8  # what crosses from a worker
    served = [img for batch, _, _ in workers.val for img in batch]
    expected = [img for batch, _, _ in plain.val for img in batch]
    assert len(served) == 8 and all(a.dtype == torch.float32 and torch.equal(a, b) for a, b in zip(served, expected))
