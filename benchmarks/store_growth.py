"""Size of a run's results store as a search grows: `search.db` after 16, 1000 and 2000 trials of a
replay search (PPO with the Hydra defaults: update batch 4, a controller checkpoint every 4
rewards), against a record of 60 fabricated trained trials.

Replay stores exactly what a trained search stores per trial (row, proposal, checkpoints), so the
growth per 1,000 trials read here is the growth of any long search with these settings. The
baseline in the same run is the store of the same searches with the controller's checkpoints
written as JSON text (the earlier format), computed from the same states.

    python benchmarks/store_growth.py      # ~2 min on 2 cores; writes results/benchmarks/store_growth.json
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import write_json

from nas.config import SearchConfig, compose_config
from nas.run_folder import RunFolder
from nas.search import run_search
from nas.store import ResultsStore
from search_space import SearchSpace
from search_space.serialize import spec_to_dict

SIZES = (16, 1000, 2000)


def fabricate_record(folder: str, rows: int = 60) -> str:
    """A finished 'trained' run of `rows` random resnet50-space trials with made-up AP."""
    space = SearchSpace.from_seed("resnet50")
    store = ResultsStore(RunFolder(folder).store)
    store.set_meta("config", compose_config([f"run.dir={folder}", "proxy=smoke"]))
    for k in range(rows):
        spec = space.decode(space.sample(seed=11, k=k), name=f"r{k}")
        ap = 0.02 + 0.001 * ((k * 37) % 50)
        store.commit_trial({"trial_id": f"rec{k}", "proposal_index": k, "decisions": list(space.encode(spec)),
                            "spec": spec_to_dict(spec), "status": "ok", "reward": ap, "ap": ap,
                            "flops": 10**9, "params": 10**6, "train_seconds": 60.0})
    store.close()
    return folder


def replay_search(record: str, folder: str, trials: int) -> dict:
    """Run a replay search of `trials` trials; its store size and the JSON-checkpoint size."""
    cfg = SearchConfig.from_dict(compose_config([
        f"run.dir={folder}", "run.name=growth", "proxy=replay", f"replay.from={record}", f"trials={trials}"]))
    start = time.monotonic()
    with contextlib.redirect_stdout(io.StringIO()):
        run_search(cfg)
    seconds = time.monotonic() - start
    with ResultsStore.open_readonly(cfg.db_path) as store:
        kept = len(store._query("SELECT seq FROM checkpoints"))
        checkpoint = store.latest_checkpoint()["state"]
        blob = len(store._query("SELECT state FROM checkpoints ORDER BY seq DESC LIMIT 1")[0]["state"])
    json_bytes = len(json.dumps(checkpoint, sort_keys=True, default=str))
    every = cfg.checkpoint_every
    size = os.path.getsize(cfg.db_path)
    return {"trials": trials, "db_bytes": size, "seconds": round(seconds, 1), "checkpoints_kept": kept,
            "checkpoint_bytes": blob, "checkpoint_json_bytes": json_bytes,
            # the earlier format kept every checkpoint as JSON text: what that store would hold
            "db_bytes_json_all_kept": size - kept * blob + (trials // every) * json_bytes}


def main() -> None:
    argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter).parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as root:
        record = fabricate_record(os.path.join(root, "record"))
        for trials in SIZES:
            rows.append(replay_search(record, os.path.join(root, f"replay{trials}"), trials))
            print(json.dumps(rows[-1]), flush=True)
    by = {r["trials"]: r for r in rows}
    growth = by[2000]["db_bytes"] - by[1000]["db_bytes"]
    growth_json = by[2000]["db_bytes_json_all_kept"] - by[1000]["db_bytes_json_all_kept"]
    summary = {"growth_bytes_per_1000_trials": growth, "growth_bytes_per_1000_trials_json_all_kept": growth_json,
               "ratio_json_to_compact": round(growth_json / max(1, growth), 1)}
    print(f"{RunFolder.STORE_FILE}: 16 trials {by[16]['db_bytes'] / 1e6:.2f} MB, 1000 {by[1000]['db_bytes'] / 1e6:.2f} MB, "
          f"2000 {by[2000]['db_bytes'] / 1e6:.2f} MB; growth {growth / 1e6:.2f} MB per 1,000 trials "
          f"(JSON checkpoints, all kept: {growth_json / 1e6:.0f} MB; ratio {summary['ratio_json_to_compact']}x)")
    write_json("store_growth", {"rows": rows, **summary})


if __name__ == "__main__":
    main()
