"""Bad run folders and bad numbers get one line on stderr and exit code 2, never a traceback:
a store with garbage in its middle pages (every verb that reads it, and resume), a run.dir that is
a file, lies under one or sits on read-only media, a full disk (the store stays valid, the best
spec files are replaced atomically or left as they were), negative or fractional resources,
non-integer trial counts, a NaN penalty. A finished run on read-only media opens for reading.

Read-only media and a full disk are real: a small tmpfs mounted for the test (root only, as in CI).
"""

import os
import subprocess

import pytest

from nas.cli import main
from nas.config import SearchConfig, compose_config
from nas.run_folder import RunFolderError, write_atomically
from nas.search import write_best
from nas.store import ResultsStore, StoreError
from search_space import SearchSpace
from search_space.serialize import spec_to_dict

from .conftest import smoke_overrides

SPACE = SearchSpace.from_seed("resnet50")


def make_store(folder, trials: int) -> str:
    """A closed store of `trials` ok rows (no -wal left behind), as a finished search leaves it."""
    db = str(folder / "search.db")
    store = ResultsStore(db)
    store.set_meta("config", _plain(folder, f"trials={trials}", "controller=random"))
    for k in range(trials):
        spec = SPACE.decode(SPACE.sample(seed=3, k=k), name=f"c{k}")
        store.commit_trial({"trial_id": f"t{k}", "proposal_index": k, "decisions": list(SPACE.encode(spec)),
                            "spec": spec_to_dict(spec), "status": "ok", "reward": 0.01 * k, "ap": 0.01 * k,
                            "flops": 10**9 + k, "params": 10**6})
    store.close()
    return db


def one_line_error(capsys, *argv) -> str:
    code = main([str(a) for a in argv])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err, (argv, code, err)
    return err


@pytest.fixture
def damaged_run(tmp_path):
    run = tmp_path / "damaged"
    db = make_store(run, 60)
    size = os.path.getsize(db)
    assert size > 6 * 4096
    with open(db, "r+b") as handle:  # garbage over every page but the first (header and schema)
        handle.seek(4096)
        handle.write(bytes((k * 131 + 7) % 256 for k in range(size - 2 * 4096)))
    return run


VERBS = [
    ("show", "{run}"), ("show", "{run}", "--json"), ("report", "{run}", "-o", "{tmp}/r.html"),
    ("export", "{run}:best", "--format", "json"), ("draw", "{run}:best", "-o", "{tmp}/d.svg"),
    ("plot", "{run}", "-o", "{tmp}/plots"), ("compare", "{run}"), ("search", "resume={run}"),
]


@pytest.mark.parametrize("verb", VERBS, ids=lambda v: " ".join(v[:1] + v[2:3]))
def test_a_damaged_store_is_one_line_in_every_verb(capsys, damaged_run, tmp_path, verb):
    err = one_line_error(capsys, *(a.format(run=damaged_run, tmp=tmp_path) for a in verb))
    assert "search.db" in err and ("damaged" in err or "malformed" in err)


def test_run_dir_that_is_a_file_or_under_one(capsys, tmp_path, cache_dir):
    afile = tmp_path / "afile"
    afile.write_text("x")
    err = one_line_error(capsys, "search", *smoke_overrides(afile, cache_dir, 1, 1))
    assert f"run.dir={afile} is a file" in err
    err = one_line_error(capsys, "search", *smoke_overrides(afile / "sub" / "run", cache_dir, 1, 1))
    assert "lies under a file" in err


@pytest.mark.parametrize(("override", "message"), [
    ("cluster.cpus_per_trial=-1", "cluster.cpus_per_trial=-1: must be greater than 0"),
    ("cluster.cpus_per_trial=1.5", "cluster.cpus_per_trial=1.5: Ray accepts fractions only below 1"),
    ("cluster.gpus_per_trial=-0.5", "cluster.gpus_per_trial=-0.5: must be at least 0"),
    ("cluster.max_failures=-1", "cluster.max_failures=-1: must be at least 0"),
    ("trials=2.9", "trials=2.9: must be a whole number"),
    ("trials=true", "trials=True: must be a whole number"),
    ("trials=abc", "trials='abc': must be a whole number"),
    ("concurrency=0", "concurrency=0: must be at least 1"),
    ("reward.failed_penalty=nan", "reward.failed_penalty=nan: must be a finite number"),
    ("reward.target_flops=-5", "reward.target_flops=-5: must be greater than 0"),
    ("+cluster.gpu_per_trial=1", "unknown key cluster.gpu_per_trial; known: kind,"),
    ("+reward.flop_weight=2", "unknown key reward.flop_weight; known: failed_penalty, target_flops, flops_weight"),
])
def test_bad_numbers_name_their_key(capsys, tmp_path, override, message):
    err = one_line_error(capsys, "search", f"run.dir={tmp_path / 'run'}", "proxy=smoke", override)
    assert message in err
    assert not (tmp_path / "run").exists()


# ---- real read-only media and a real full disk (a tmpfs of its own) ---------------------------
needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="mounting a tmpfs needs root (CI runs as root)")


@pytest.fixture
def small_fs(tmp_path):
    """A 2 MiB tmpfs at tmp_path/fs, unmounted afterwards; `remount(ro)` switches it read-only."""
    mount = tmp_path / "fs"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)], check=True)

    def remount(option: str) -> None:
        subprocess.run(["mount", "-o", f"remount,{option}", str(mount)], check=True)

    yield mount, remount
    subprocess.run(["umount", str(mount)], check=True)


@needs_root
def test_a_finished_run_on_read_only_media(capsys, small_fs):
    mount, remount = small_fs
    run = mount / "run"
    make_store(run, 3)
    remount("ro")
    assert main(["show", str(run)]) == 0 and "t2" in capsys.readouterr().out
    assert main(["export", f"{run}:best", "--format", "json"]) == 0 and '"blocks"' in capsys.readouterr().out
    err = one_line_error(capsys, "search", f"resume={run}")
    assert "not writable" in err or "read-only" in err.lower()


@needs_root
def test_a_new_run_on_read_only_media(capsys, small_fs, cache_dir):
    mount, remount = small_fs
    remount("ro")
    err = one_line_error(capsys, "search", *smoke_overrides(mount / "run", cache_dir, 1, 1))
    assert f"run.dir={mount / 'run'}" in err and "Read-only file system" in err


def fill(mount) -> None:
    """Write until the file system is full."""
    with open(mount / "filler", "wb") as handle:
        try:
            while True:
                handle.write(b"\0" * 65536)
                handle.flush()
        except OSError as err:
            assert err.errno == 28  # ENOSPC


@needs_root
def test_a_full_disk_keeps_the_store_valid_and_the_best_files_whole(small_fs, tmp_path):
    mount, _ = small_fs
    run = mount / "run"
    make_store(run, 3)
    cfg = SearchConfig.from_dict(_plain(run))
    write_best(cfg)
    before = (run / "best_spec.json").read_text()
    store = ResultsStore(str(run / "search.db"))
    fill(mount)
    spec = SPACE.decode(SPACE.sample(seed=3, k=9), name="c9")
    big = {"trial_id": "t9", "proposal_index": 9, "decisions": list(SPACE.encode(spec)), "status": "ok",
           "spec": {**spec_to_dict(spec), "padding": "x" * 300_000}, "reward": 0.5, "ap": 0.5}
    with pytest.raises(StoreError, match="full.*nas search resume="):
        store.commit_trial(big)
    with pytest.raises(RunFolderError, match="No space left on device; it was left as it was"):
        write_atomically(str(run / "best_spec.json"), "y" * 500_000)
    assert (run / "best_spec.json").read_text() == before  # not emptied, not half-written
    assert sorted(os.listdir(run)) == ["best_spec.json", "best_spec_tf.txt", "search.db", "search.db-shm",
                                       "search.db-wal"]  # no temporary file left
    os.remove(mount / "filler")
    assert store.commit_trial(big)  # space freed: the same store goes on
    store.close()
    with ResultsStore.open_readonly(str(run / "search.db")) as reader:
        reader.check_integrity()
        assert [r["trial_id"] for r in reader.trials()] == ["t0", "t1", "t2", "t9"]


def _plain(run, *extra) -> dict:
    return compose_config([f"run.dir={run}", "run.name=bad", "proxy=smoke", *extra])


def test_a_store_killed_before_its_schema_is_started_again(capsys, tmp_path):
    run = tmp_path / "blank"
    run.mkdir()
    (run / "search.db").write_bytes(b"")  # what a SIGKILL right after sqlite3.connect leaves
    assert ResultsStore.is_blank(str(run / "search.db"))
    err = one_line_error(capsys, "search", f"resume={run}")
    assert "stopped before recording its config" in err and "without resume=" in err
    from nas.search import prepare_run

    cfg = SearchConfig.from_dict(_plain(run))
    prepare_run(cfg, resuming=False)  # a new search takes the folder over
    with ResultsStore.open_readonly(cfg.db_path) as store:
        assert store.config()["run"]["name"] == "bad"
