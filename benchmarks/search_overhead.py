"""Search overhead: the wall time a search spends beyond its trials' own compute, per trial and as
a fraction of wall time, at several concurrencies, with Ray start-up reported apart.

Each search is a real one (`nas search`'s code path: `load_search_config` + `run_search`) run in
its own driver process (this script with `--drive`), controller=random on the smoke tier sized so
a trial trains for about 30 s on one thread. The driver times `ray.init` and `ray.shutdown`; the
parent polls the driver's peak RSS (VmHWM). One in-process `train_and_evaluate` of SpineNet-49 at
the same size first calibrates the known compute of a trial, and the import time of torch and the
proxy trainer (what a fresh Ray worker pays inside its first trial).

Definitions (clock: wall time of this machine; per trial from the run folder):
- trial start: Tune's `start_time` of the trial (driver side, when it turned RUNNING);
- trial compute: Tune's `time_total_s` (the trainable's own time in the worker: data, model,
  training, the per-epoch evaluation; eval therefore counts as compute; the driver round trip of
  each report does not), less the import time on the first trial of each worker process;
- Ray up: first trial start + import time; Ray start-up: ray.init call -> Ray up;
- wall: Ray up -> ray.shutdown call; overhead = wall - sum(compute) / concurrency.
When every concurrency slot has one fresh worker the import time cancels out of the overhead.
The store's `train_seconds` (training loop only) is reported beside the compute.

Usage: python benchmarks/search_overhead.py [--epochs E] [--images N] [--concurrency 1 2]
                                            [--trials 3 4] [--quick] [--cache DIR] [--work DIR] [--out DIR]
Writes results/benchmarks/search_overhead.json (or DIR/search_overhead.json); the run folders and
driver logs go to --work (default: a temporary folder, removed at the end).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import RESULTS_DIR, print_table, write_json

NAME = "search_overhead"
ROOT = Path(__file__).resolve().parent.parent
TARGETS = {"overhead_fraction_max": 0.03, "overhead_s_per_trial_max": 1.0}  # the targets
FULL = {"epochs": 10, "images": 136, "concurrency": [1, 2], "trials": [3, 4]}  # ~30 s a trial on one thread
QUICK = {"epochs": 1, "images": 48, "concurrency": [1], "trials": [2]}  # ~2 s a trial (tests)
HELDOUT = 16  # held-out images scored after every epoch
POLL_S = 0.1  # RSS polling period of a running driver


# ---- pure parts ----------------------------------------------------------------------------
def parse_status_kib(status_text: str, field: str = "VmHWM") -> int | None:
    """A KiB field of /proc/<pid>/status text (VmHWM: peak resident set; VmRSS: current); None if absent."""
    for line in status_text.splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    return None


def overhead(wall_s: float, compute_s: float, concurrency: int, trials: int) -> dict:
    """Overhead of a search: wall time beyond its compute spread over `concurrency` slots."""
    total = wall_s - compute_s / concurrency
    return {"overhead_s": total, "overhead_s_per_trial": total / trials, "overhead_fraction": total / wall_s}


def search_timing(marks: dict, trials: list[dict], import_s: float, concurrency: int) -> dict:
    """Ray start-up, wall, compute and overhead of one search (see the module docstring).

    Args:
        marks: driver times (`ray_init_start`, `ray_init_end`, `ray_shutdown_start`, `ray_shutdown_end`).
        trials: per trial `start` (Tune start_time), `time_total_s` and the worker `pid`.
        import_s: import time a fresh worker pays in its first trial.
        concurrency: trials at once.
    """
    up = min(t["start"] for t in trials) + import_s
    fresh_workers = len({t["pid"] for t in trials})
    compute = sum(t["time_total_s"] for t in trials) - fresh_workers * import_s
    wall = marks["ray_shutdown_start"] - up
    return {"ray_init_s": marks["ray_init_end"] - marks["ray_init_start"], "ray_start_s": up - marks["ray_init_start"],
            "ray_stop_s": marks["ray_shutdown_end"] - marks["ray_shutdown_start"], "workers": fresh_workers,
            "wall_s": wall, "compute_s": compute, **overhead(wall, compute, concurrency, len(trials))}


def target_check(rows: list[dict]) -> dict:
    """Whether each search meets the issue's targets (fraction of wall, seconds per trial)."""
    per = {str(r["concurrency"]): {"fraction": r["overhead_fraction"] < TARGETS["overhead_fraction_max"],
                                   "per_trial": r["overhead_s_per_trial"] < TARGETS["overhead_s_per_trial_max"]}
           for r in rows}
    return {**TARGETS, "by_concurrency": per, "all_hold": all(v for c in per.values() for v in c.values())}


# ---- processes and their peak memory --------------------------------------------------------
def read_status_kib(pid: int | str, field: str = "VmHWM") -> int | None:
    """A KiB field (default the peak RSS) of a live process ('self' for this one); None once it is gone."""
    try:
        return parse_status_kib(Path(f"/proc/{pid}/status").read_text(), field)
    except OSError:
        return None


def run_polled(command: list[str], log: Path, timeout: float, env: dict | None = None) -> dict:
    """Run `command` (output to `log`) while polling its peak RSS; VmHWM only grows, so the last
    reading before exit is the peak.

    Returns:
        `returncode`, `wall_s`, `launched` (wall clock) and `peak_rss_mib` (None if never read).
    Raises:
        subprocess.TimeoutExpired: still running after `timeout` seconds (it is killed first).
    """
    env = dict(os.environ if env is None else env, RAY_AUTH_MODE="disabled")
    peak, launched, start = None, time.time(), time.perf_counter()
    with open(log, "w", encoding="utf-8") as out:
        proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT, env=env)
        while proc.poll() is None:
            peak = read_status_kib(proc.pid) or peak
            try:
                proc.wait(timeout=POLL_S)
            except subprocess.TimeoutExpired:
                if time.perf_counter() - start > timeout:
                    proc.kill()
                    proc.wait()
                    raise
    return {"returncode": proc.returncode, "wall_s": time.perf_counter() - start, "launched": launched,
            "peak_rss_mib": None if peak is None else peak / 1024}


def checked(result: dict, log: Path, what: str) -> dict:
    """`result` of `run_polled`, or SystemExit with the tail of its log when it failed."""
    if result["returncode"]:
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-30:])
        raise SystemExit(f"{what} failed with exit code {result['returncode']}; end of {log}:\n{tail}")
    return result


# ---- the driver (child process) -------------------------------------------------------------
def _timed(owner, name: str, marks: dict, key: str) -> None:
    """Replace `owner.name` by a wrapper recording the wall time of its first call's start and end."""
    inner = getattr(owner, name)

    def wrapper(*args, **kwargs):
        first = f"{key}_start" not in marks
        if first:
            marks[f"{key}_start"] = time.time()
        try:
            return inner(*args, **kwargs)
        finally:
            if first:
                marks[f"{key}_end"] = time.time()

    setattr(owner, name, wrapper)


def drive(marks_path: str, overrides: list[str]) -> int:
    """Run one search as `nas search` does, writing the driver's Ray start/stop times to `marks_path`."""
    import ray

    import nas.search
    from nas.config import load_search_config

    marks: dict = {}
    _timed(nas.search, "init_ray", marks, "ray_init")
    _timed(ray, "shutdown", marks, "ray_shutdown")
    cfg, resuming = load_search_config(overrides)
    nas.search.run_search(cfg, resuming)
    Path(marks_path).write_text(json.dumps(marks))
    return 0


# ---- measuring -------------------------------------------------------------------------------
def tier_overrides(settings: dict, cache: Path | None) -> list[str]:
    """The smoke tier sized by `settings` (epochs, synthetic images), as Hydra overrides."""
    tier = ["proxy=smoke", f"proxy.epochs={settings['epochs']}", f"data.synth_images={settings['images']}",
            "data.synth_size=64", f"data.heldout_images={HELDOUT}"]
    return tier + ([f"data.cache_dir={cache}"] if cache else [])


def calibrate(tier: list[str]) -> dict:
    """Import time of torch + the proxy trainer, then one timed in-process SpineNet-49 trial."""
    start = time.perf_counter()
    import torch  # noqa: F401 - timed: what a fresh Ray worker imports in its first trial

    from proxy_trainer.train import train_and_evaluate

    import_s = time.perf_counter() - start
    from nas.config import load_proxy_and_data
    from proxy_trainer.data.prepare import prepare_data
    from search_space import get_builtin

    proxy, data = load_proxy_and_data(tier)
    prepare_data(data)  # generate the synthetic set now, not inside the first trial
    start = time.perf_counter()
    result = train_and_evaluate(get_builtin("spinenet-49"), proxy, data).flat()
    return {"import_s": import_s, "trial_s": time.perf_counter() - start, "train_seconds": result["train_seconds"],
            "status": result["status"], "threads": proxy.num_threads}


def tune_trials(run_dir: Path) -> list[dict]:
    """Per trial of the run's Tune experiment: id, start (Tune start_time), time_total_s, worker pid."""
    from nas.run_folder import RunFolder

    ray_dir = Path(RunFolder(str(run_dir)).ray)
    state = max(ray_dir.glob("experiment_state-*.json"), key=os.path.getmtime)
    starts = {}
    for entry in json.loads(state.read_text())["trial_data"]:  # [trial JSON, run metadata JSON]
        trial, metadata = (json.loads(part) for part in entry)
        starts[trial["trial_id"]] = metadata["start_time"]
    rows = []
    for path in ray_dir.glob("*/result.json"):
        last = json.loads(path.read_text().splitlines()[-1])
        rows.append({"trial_id": last["trial_id"], "start": starts[last["trial_id"]],
                     "time_total_s": last["time_total_s"], "pid": last["pid"]})
    return sorted(rows, key=lambda r: r["start"])


def stored_trials(run_dir: Path) -> dict[str, dict]:
    """trial id -> status and train_seconds from the run's results store."""
    from nas.run_folder import RunFolder
    from nas.store import ResultsStore

    with ResultsStore.open_readonly(RunFolder(str(run_dir)).store) as store:
        return {r["trial_id"]: {"status": r["status"], "train_seconds": r["train_seconds"]} for r in store.trials()}


def measure_search(tier: list[str], concurrency: int, trials: int, work: Path, import_s: float) -> dict:
    """One search at `concurrency`: timing, overhead, driver peak RSS and the per-trial details."""
    run_dir = work / f"search-c{concurrency}"
    shutil.rmtree(run_dir, ignore_errors=True)  # this benchmark's own folder from an earlier run
    marks_path, log = work / f"marks-c{concurrency}.json", work / f"search-c{concurrency}.log"
    overrides = [*tier, "controller=random", f"trials={trials}", f"concurrency={concurrency}", "seed=0",
                 f"run.dir={run_dir}", f"run.name=overhead-c{concurrency}"]
    command = [sys.executable, str(Path(__file__).resolve()), "--drive", str(marks_path), *overrides]
    proc = checked(run_polled(command, log, timeout=3600), log, f"search at concurrency {concurrency}")
    marks = json.loads(marks_path.read_text())
    stored = stored_trials(run_dir)
    tune = tune_trials(run_dir)
    timing = search_timing(marks, tune, import_s, concurrency)
    per_trial = [{**t, "start": t["start"] - marks["ray_init_start"], **stored.get(t["trial_id"], {})} for t in tune]
    return {"concurrency": concurrency, "trials": len(per_trial), **timing,
            "train_s": sum(t.get("train_seconds") or 0.0 for t in per_trial),
            "driver_setup_s": marks["ray_init_start"] - proc["launched"], "driver_wall_s": proc["wall_s"],
            "driver_peak_rss_mib": proc["peak_rss_mib"], "ok": sum(t.get("status") == "ok" for t in per_trial),
            "per_trial": per_trial}


def print_rows(calibration: dict, rows: list[dict]) -> None:
    print(f"calibration: SpineNet-49 trial {calibration['trial_s']:.1f} s in process "
          f"(training {calibration['train_seconds']:.1f} s), imports {calibration['import_s']:.1f} s")
    print_table(["concurrency", "trials", "wall s", "ray start s", "compute s", "overhead s/trial", "overhead %",
                 "driver peak MiB"],
                [[r["concurrency"], r["trials"], r["wall_s"], r["ray_start_s"], r["compute_s"],
                  r["overhead_s_per_trial"], 100 * r["overhead_fraction"], r["driver_peak_rss_mib"]] for r in rows])


def run(settings: dict, cache: Path | None, work: Path) -> dict:
    """Calibrate, then one search per (concurrency, trials); the JSON payload."""
    tier = tier_overrides(settings, cache)
    calibration = calibrate(tier)
    print(f"calibrated: {calibration['trial_s']:.1f} s per trial", flush=True)
    rows = []
    for concurrency, trials in zip(settings["concurrency"], settings["trials"]):
        rows.append(measure_search(tier, concurrency, trials, work, calibration["import_s"]))
        print(f"concurrency {concurrency}: {rows[-1]['overhead_s_per_trial']:.2f} s overhead per trial", flush=True)
    return {"settings": {**settings, "heldout_images": HELDOUT, "tier": tier}, "calibration": calibration,
            "searches": rows, "targets": target_check(rows)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="~2 s trials, 2 trials at concurrency 1 (tests)")
    parser.add_argument("--epochs", type=int, help=f"epochs per trial (default {FULL['epochs']})")
    parser.add_argument("--images", type=int, help=f"synthetic images, {HELDOUT} held out (default {FULL['images']})")
    parser.add_argument("--concurrency", type=int, nargs="+", help="concurrencies to measure (default 1 2)")
    parser.add_argument("--trials", type=int, nargs="+", help="trials of each search (default 3 4)")
    parser.add_argument("--cache", type=Path, help="synthetic data cache (default: the usual one)")
    parser.add_argument("--work", type=Path, help="folder of the run folders (search-c<K>, replaced) and logs (default: temporary)")
    parser.add_argument("--out", type=Path, default=RESULTS_DIR, help="folder of the JSON")
    parser.add_argument("--drive", help=argparse.SUPPRESS)  # internal: be the driver of one search
    parser.add_argument("overrides", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.drive:
        return drive(args.drive, args.overrides)
    settings = dict(QUICK if args.quick else FULL)
    settings.update({k: getattr(args, k) for k in ("epochs", "images", "concurrency", "trials") if getattr(args, k)})
    if len(settings["concurrency"]) != len(settings["trials"]):
        parser.error("--concurrency and --trials need the same number of values")
    with tempfile.TemporaryDirectory(prefix="search-overhead-") as temp:
        work = args.work or Path(temp)
        work.mkdir(parents=True, exist_ok=True)
        payload = run(settings, args.cache, work)
    print_rows(payload["calibration"], payload["searches"])
    print(f"targets (< {TARGETS['overhead_fraction_max']:.0%} of wall, < {TARGETS['overhead_s_per_trial_max']} s "
          f"per trial): {'hold' if payload['targets']['all_hold'] else 'do not all hold'}")
    print(f"wrote {write_json(NAME, payload, args.out)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
