"""Memory: peak RSS of one cpu-tier proxy trial (SpineNet-49, and the r50-fpn baseline for
comparison) and of the search driver during a short search.

Each trial runs `train_and_evaluate` in its own fresh process (spawn, one thread, the two at once)
that reads its own VmHWM at the end; the RSS after the imports, before training, is reported too.
The driver is a real `nas search` (smoke tier, 2 trials, controller=random) whose VmHWM the parent
polls while it runs (`search_overhead.run_polled`); its trials' Ray workers are not counted.

Usage: python benchmarks/memory.py [--epochs E] [--quick] [--cache DIR] [--work DIR] [--out DIR]
Writes results/benchmarks/memory.json (or DIR/memory.json).
"""

from __future__ import annotations

import argparse
import dataclasses
import multiprocessing
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import RESULTS_DIR, print_table, write_json
from proxy_fidelity import BASELINE
from search_overhead import checked, read_status_kib, run_polled

from nas.config import load_proxy_and_data

NAME = "memory"
ARCHS = ("spinenet-49", BASELINE)  # BASELINE: the r50-fpn detector (spec None)
TIERS = {"full": ["proxy=cpu"],
         "quick": ["proxy=smoke", "proxy.epochs=1", "data.synth_images=48", "data.synth_size=64",
                   "data.heldout_images=16"]}
DRIVER_TIER = TIERS["quick"]  # the driver's memory hardly depends on the trials' size
DRIVER_TRIALS = 2


def trial_peak(job: dict) -> dict:
    """One proxy trial in this (fresh) process; its peak RSS, the RSS before training, status."""
    from proxy_trainer.train import train_and_evaluate
    from search_space import get_builtin

    proxy, data = load_proxy_and_data(job["tier"])
    proxy = dataclasses.replace(proxy, num_threads=1, epochs=job["epochs"] or proxy.epochs)
    before = read_status_kib("self", "VmRSS")
    result = train_and_evaluate(None if job["arch"] == BASELINE else get_builtin(job["arch"]), proxy, data).flat()
    return {"arch": job["arch"], "pid": os.getpid(), "status": result["status"], "epochs": proxy.epochs,
            "image_size": proxy.image_size,
            "train_seconds": result["train_seconds"], "rss_before_training_mib": before / 1024,
            "peak_rss_mib": read_status_kib("self") / 1024}


def trial_peaks(tier: list[str], epochs: int | None) -> list[dict]:
    """`trial_peak` of each architecture, each in a fresh spawned process, all at once."""
    from proxy_trainer.data.prepare import prepare_data

    prepare_data(load_proxy_and_data(tier)[1])  # generate the synthetic set once, before the workers read it
    jobs = [{"arch": arch, "tier": tier, "epochs": epochs} for arch in ARCHS]
    with multiprocessing.get_context("spawn").Pool(len(jobs), maxtasksperchild=1) as pool:
        return pool.map(trial_peak, jobs, chunksize=1)  # one fresh process per trial


def driver_peak(cache: Path | None, work: Path) -> dict:
    """Peak RSS of the `nas search` driver process during a short smoke-tier search."""
    log = work / "driver-search.log"
    command = [sys.executable, "-m", "nas", "search", *DRIVER_TIER, *([f"data.cache_dir={cache}"] if cache else []),
               "controller=random", f"trials={DRIVER_TRIALS}", "concurrency=1", f"run.dir={work / 'driver-search'}",
               "run.name=memory-driver"]
    result = checked(run_polled(command, log, timeout=1800), log, "the driver search")
    return {"trials": DRIVER_TRIALS, "tier": DRIVER_TIER, "wall_s": result["wall_s"],
            "peak_rss_mib": result["peak_rss_mib"]}


def print_rows(trials: list[dict], driver: dict, baseline_mib: float) -> None:
    print_table(["process", "status", "epochs", "RSS before training MiB", "peak RSS MiB", "vs r50-fpn"],
                [[f"trial {t['arch']}", t["status"], t["epochs"], t["rss_before_training_mib"], t["peak_rss_mib"],
                  t["peak_rss_mib"] / baseline_mib] for t in trials]
                + [[f"search driver ({driver['trials']} trials)", "ok", "-", "-", driver["peak_rss_mib"], "-"]])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smoke tier trials instead of the cpu tier (tests)")
    parser.add_argument("--epochs", type=int, help="epochs of each trial (default: the tier's)")
    parser.add_argument("--cache", type=Path, help="synthetic data cache (default: the usual one)")
    parser.add_argument("--work", type=Path, help="folder of the driver's run folder and log (default: temporary)")
    parser.add_argument("--out", type=Path, default=RESULTS_DIR, help="folder of the JSON")
    args = parser.parse_args(argv)
    tier = TIERS["quick" if args.quick else "full"] + ([f"data.cache_dir={args.cache}"] if args.cache else [])
    trials = trial_peaks(tier, args.epochs)
    with tempfile.TemporaryDirectory(prefix="memory-") as temp:
        work = args.work or Path(temp)
        work.mkdir(parents=True, exist_ok=True)
        driver = driver_peak(args.cache, work)
    peak = {t["arch"]: t["peak_rss_mib"] for t in trials}
    print_rows(trials, driver, peak[BASELINE])
    payload = {"settings": {"tier": tier, "epochs": args.epochs, "threads": 1}, "trials": trials,
               "spinenet49_vs_r50fpn": peak["spinenet-49"] / peak[BASELINE], "driver": driver}
    print(f"wrote {write_json(NAME, payload, args.out)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
