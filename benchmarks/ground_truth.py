"""The ground-truth table (`make ground-truth`): architectures trained on the repro tier with at
least two seeds each, and every cheap estimate of them, for scoring estimates and predictors.

Architectures (a spec decides each; r50-fpn, the baseline, has none):
- the four references: r50-sd, r0-sp53, spinenet-49, r50-fpn;
- seeded random specs of the resnet50 space (sampling seeds 19 and 23, as the proxy-design study
  drew them) and of the r0-sp53 space (sampling seed 29);
- the specs a search proposed: every trial of the mini-reproduction's run (results/runs/repro-mini).
Trainings that already exist with the tier's training configuration are reused, not repeated:
the proxy-design study's (benchmarks/design_study/tier_rows.py), the mini-reproduction's
retrainings, and the search's own trials (seed 0; their per-epoch reports read from Ray's result
files in the run folder). Each missing (architecture, seed) is trained on one thread, two at once,
and written to the JSON as it ends, so a rerun trains only what is still missing. Each training
keeps its per-epoch curve (the tier's evaluation after every epoch: BN statistics as trained
before the last epoch, re-estimated for the last).
Estimates (params, FLOPs, zero-cost scores on one fixed batch: proxy_trainer/estimates/score.py)
are computed once per architecture and kept in the JSON too.

The table is also kept as a run folder (results/runs/ground-truth, rebuilt from the JSON on every
run): one trial row per architecture with a spec (its reward the mean AP over seeds, decisions
in the resnet50 space, which holds the r0-sp53 space's specs with offset 0 and bottleneck blocks)
and one `retrains` row per training, so `nas show`, replay and predictors read it.

Usage: python benchmarks/ground_truth.py [--quick] [--max-trainings N] [--search-run DIR]
                                         [--reuse JSON ...] [--run-dir DIR] [--out DIR]
Writes results/benchmarks/ground_truth.json (or DIR/ground_truth.json).
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import RESULTS_DIR, write_json
from proxy_fidelity import BASELINE, KNOWN, resolved_tier, same_tier, train_in_parallel
from repro_mini import reusable

from search_space import SearchSpace, get_builtin
from search_space.serialize import spec_from_dict, spec_to_dict

NAME = "ground_truth"
ROOT = Path(__file__).resolve().parent.parent
METRICS = ("ap", "ap50", "ap75", "aps", "apm", "apl")
FULL = {"tier": ["proxy=repro"], "seeds": 2,
        "random": [["resnet50", 19, 4], ["resnet50", 23, 8], ["r0-sp53", 29, 8]]}
QUICK = {"tier": ["proxy=smoke", "proxy.epochs=2", "data.synth_images=32", "data.heldout_images=8",
                  "data.synth_size=64"],
         "seeds": 2, "random": [["resnet50", 0, 1], ["r0-sp53", 0, 1]]}


# ---- the architectures -------------------------------------------------------------------
def architectures(settings: dict, search_run: Path | None) -> dict[str, dict]:
    """Name -> {"spec": spec dict or None, "source": where it comes from}, duplicates of an
    earlier entry's blocks dropped."""
    from controller.base import spec_key

    archs = {name: {"spec": spec_to_dict(get_builtin(name)), "source": "reference"} for name in KNOWN}
    archs[BASELINE] = {"spec": None, "source": "reference"}
    for space_name, seed, count in settings["random"]:
        space = SearchSpace.from_seed(space_name)
        for k in range(count):
            spec = space.sample_spec(seed, k)
            archs[spec.name] = {"spec": spec_to_dict(spec), "source": f"random:{space_name}"}
    for row in search_rows(search_run):
        archs[search_name(row["trial_id"])] = {"spec": row["spec"], "source": "search", "trial_id": row["trial_id"]}
    seen: set[str] = set()
    kept = {}
    for name, arch in archs.items():
        key = None if arch["spec"] is None else spec_key(spec_from_dict(arch["spec"]))
        if key is None or key not in seen:
            kept[name] = arch
            seen.add(key)
    return kept


def search_name(trial_id: str) -> str:
    """The table's name of a search trial's architecture."""
    return f"search-{trial_id}"


def search_rows(run_dir: Path | None) -> list[dict]:
    """The stored trial rows of a search run (none without a store)."""
    from nas.run_folder import RunFolder
    from nas.store import ResultsStore

    if run_dir is None or not Path(RunFolder(str(run_dir)).store).exists():
        return []
    with ResultsStore.open_readonly(RunFolder(str(run_dir)).store) as store:
        return store.trials()


# ---- trainings that already exist -----------------------------------------------------------
def search_trainings(run_dir: Path | None, settings: dict) -> dict[tuple, dict]:
    """(arch, seed, epochs) -> the search's own trainings (seed 0 of each trial), if the search
    ran with the tier's training configuration; per-epoch curves from Ray's result files."""
    from design_study.tier_rows import training_config

    from nas.run_folder import RunFolder
    from nas.store import ResultsStore

    if run_dir is None or not Path(RunFolder(str(run_dir)).store).exists():
        return {}
    with ResultsStore.open_readonly(RunFolder(str(run_dir)).store) as store:
        config, rows = store.config(), store.trials()
    resolved = settings["resolved"]
    if training_config(config["proxy"], config["data"]) != training_config(resolved["proxy"], resolved["data"]):
        return {}
    curves = ray_curves(run_dir)
    epochs = resolved["proxy"]["epochs"]
    return {(search_name(r["trial_id"]), config["proxy"]["seed"], epochs): {
        "arch": search_name(r["trial_id"]), "seed": config["proxy"]["seed"], "epochs": epochs, "status": r["status"],
        **{k: r.get(k) for k in (*METRICS, "flops", "params", "train_seconds")},
        "curve": curves.get(r["trial_id"], []), "reused_from": f"search:{run_dir.name}:{r['trial_id']}"}
        for r in rows if r["status"] == "ok"}


def ray_curves(run_dir: Path) -> dict[str, list[dict]]:
    """trial id -> per-epoch metrics, from the per-epoch reports Ray Tune logged (result.json)."""
    curves: dict[str, list[dict]] = {}
    for path in sorted((run_dir / "ray").glob("*/result.json")):
        for line in path.read_text().splitlines():
            report = json.loads(line) if line.strip() else {}
            if report.get("trial_id") and report.get("epochs_done"):
                curves.setdefault(report["trial_id"], []).append(
                    {"epoch": report["epochs_done"], "loss": report.get("loss"),
                     **{k: None if report.get(k) is None else round(report[k], 4) for k in METRICS}})
    return curves


def mini_reproduction_trainings(path: Path, settings: dict) -> dict[tuple, dict]:
    """(arch, seed, epochs) -> the mini-reproduction's retrainings of found architectures, named as
    this table names the search's trials ('found-1 (<trial>)' -> 'search-<trial>')."""
    runs = {}
    for (arch, seed, epochs), run in reusable(path, settings).items():
        if arch.startswith("found-") and "(" in arch:
            name = search_name(arch.split("(", 1)[1].rstrip(")"))
            runs[(name, seed, epochs)] = {**run, "arch": name, "reused_from": f"repro_mini:{arch}"}
        elif not arch.startswith("found-"):
            runs[(arch, seed, epochs)] = run
    return runs


def existing(settings: dict, reuse: list[Path], search_run: Path | None, own: Path) -> dict[tuple, dict]:
    """Every usable training: this table's own (from a cut-short run) first, then the others."""
    found: dict[tuple, dict] = {}
    for path in reuse:
        reader = mini_reproduction_trainings if path.name.startswith("repro_mini") else reusable
        for key, run in reader(path, settings).items():
            found.setdefault(key, {**run, "reused": True})
    for key, run in search_trainings(search_run, settings).items():
        found.setdefault(key, {**run, "reused": True})
    for key, run in own_trainings(own, settings).items():
        found[key] = run
    return found


def own_trainings(path: Path, settings: dict) -> dict[tuple, dict]:
    """This table's trainings from an earlier run with the same tier configuration."""
    if not path.exists():
        return {}
    old = json.loads(path.read_text())
    if not same_tier(old.get("settings", {}).get("resolved"), settings["resolved"]):
        return {}
    return {(r["arch"], r["seed"], r["epochs"]): r for r in old.get("runs", []) if not r.get("reused")}


# ---- what to train ---------------------------------------------------------------------------
def missing_jobs(archs: dict[str, dict], have: dict[tuple, dict], settings: dict) -> list[dict]:
    """Trainings that bring every architecture to `seeds` successful seeds (lowest seeds first);
    every architecture's first missing seed comes before any second one, so a run cut short
    (`--max-trainings`) covers as many architectures as it can."""
    epochs = settings["resolved"]["proxy"]["epochs"]
    ranked = []
    for order, (name, arch) in enumerate(archs.items()):
        seeds = {s for (a, s, e), run in have.items() if a == name and e == epochs and run["status"] == "ok"}
        free = (s for s in range(10**6) if s not in seeds)
        for round_ in range(max(0, settings["seeds"] - len(seeds))):
            job = {"schedule": "long", "arch": name, "spec": arch["spec"], "seed": next(free), "epochs": epochs,
                   "tier": settings["tier"]}
            ranked.append((round_, order, job))
    return [job for _, _, job in sorted(ranked, key=lambda item: item[:2])]


def estimate_one(job: dict) -> dict:
    """Estimates of one architecture (runs in a worker process, one thread)."""
    import torch

    from nas.config import load_proxy_and_data
    from proxy_trainer.estimates.score import estimate_architecture

    torch.set_num_threads(1)
    proxy, data = load_proxy_and_data(job["tier"])
    spec = None if job["spec"] is None else spec_from_dict(job["spec"])
    return {"arch": job["arch"], **estimate_architecture(spec, proxy, data)}


# ---- the table -------------------------------------------------------------------------------
def standard_error(values: list[float]) -> float | None:
    return statistics.stdev(values) / len(values) ** 0.5 if len(values) > 1 else None


def mean_curve(runs: list[dict], epochs: int) -> list[float | None]:
    """Per-epoch AP averaged over the runs that have it (None where none has)."""
    out = []
    for epoch in range(1, epochs + 1):
        values = [p["ap"] for r in runs for p in r.get("curve") or [] if p["epoch"] == epoch and p["ap"] is not None]
        out.append(round(statistics.fmean(values), 4) if values else None)
    return out


def table(archs: dict[str, dict], runs: list[dict], estimates: dict[str, dict], epochs: int) -> dict[str, dict]:
    """Per architecture: seeds, AP per seed, mean and standard error of every metric, FLOPs, params,
    its mean per-epoch AP curve and its estimates (a failed training counts as AP 0)."""
    out = {}
    for name, arch in archs.items():
        mine = sorted((r for r in runs if r["arch"] == name and r["epochs"] == epochs), key=lambda r: r["seed"])
        if not mine:
            continue
        entry = {"source": arch["source"], "spec": arch["spec"], "seeds": [r["seed"] for r in mine],
                 "ap_per_seed": [r["ap"] if r["status"] == "ok" else 0.0 for r in mine]}
        for metric in METRICS:
            values = [r.get(metric) or 0.0 if r["status"] == "ok" else 0.0 for r in mine]
            entry[metric] = round(statistics.fmean(values), 4)
            entry[f"{metric}_se"] = standard_error(values)
        entry["curve_ap"] = mean_curve(mine, epochs)
        entry["curve_runs"] = sum(bool(r.get("curve")) for r in mine)
        entry.update({k: mine[0].get(k) for k in ("params", "flops")})
        entry["estimates"] = estimates.get(name)
        out[name] = entry
    return out


# ---- the run folder --------------------------------------------------------------------------
def write_run_folder(run_dir: Path, rows: dict[str, dict], runs: list[dict], settings: dict) -> int:
    """A fresh run folder holding the table: one trial per architecture with a spec, one retrain
    per training; returns the number of trials written."""
    from nas.config import compose_config
    from nas.run_folder import RunFolder
    from nas.store import ResultsStore
    from nas.store_schema import result_columns
    from search_space.trial_result import TrialResult, TrialStatus

    if run_dir.exists():
        shutil.rmtree(run_dir)
    folder = RunFolder.create(str(run_dir))
    space = SearchSpace.from_seed("resnet50")
    decided = [(name, row) for name, row in rows.items() if row["spec"] is not None]
    config = compose_config([*settings["tier"], f"trials={len(decided)}", f"run.dir={run_dir}",
                             f"run.name={run_dir.name}"])
    store = ResultsStore(folder.store)
    try:
        store.set_meta("config", config)
        store.set_meta("ground_truth", {"source": f"results/benchmarks/{NAME}.json", "seeds": settings["seeds"]})
        for index, (name, row) in enumerate(decided):
            spec = spec_from_dict(row["spec"])
            seconds = [r["train_seconds"] for r in runs if r["arch"] == name and r.get("train_seconds")]
            result = TrialResult(TrialStatus.OK, metrics={k: row[k] for k in METRICS}, params=row["params"],
                                 flops=row["flops"], epochs_done=settings["resolved"]["proxy"]["epochs"],
                                 train_seconds=round(statistics.fmean(seconds), 1) if seconds else None)
            store.commit_trial({**result_columns(result), "trial_id": name, "proposal_index": index,
                                "decisions": list(space.encode(spec)), "spec": row["spec"], "reward": row["ap"],
                                "provenance": {"ground_truth": name, "seeds": row["seeds"]}})
            for run in (r for r in runs if r["arch"] == name):
                store.add_retrain(name, run["seed"], settings["resolved"]["proxy"]["tier"],
                                  {k: v for k, v in run.items() if k not in ("spec", "curve")})
    finally:
        store.close()
    return len(decided)


# ---- main ------------------------------------------------------------------------------------
def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smoke tier, 2 random specs, 2 seeds (tests)")
    parser.add_argument("--max-trainings", type=int, default=None, help="train at most N this run (resume later)")
    parser.add_argument("--search-run", type=Path, default=ROOT / "results" / "runs" / "repro-mini")
    parser.add_argument("--reuse", type=Path, nargs="*", default=[], help="benchmark JSON files whose runs may be reused")
    parser.add_argument("--run-dir", type=Path, default=ROOT / "results" / "runs" / "ground-truth")
    parser.add_argument("--out", type=Path, default=RESULTS_DIR, help="folder of the JSON")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    from nas.config import load_proxy_and_data
    from proxy_trainer.data.prepare import prepare_data

    args = parse_args(argv)
    settings = json.loads(json.dumps(QUICK if args.quick else FULL))
    settings["resolved"] = resolved_tier(settings["tier"])
    epochs = settings["resolved"]["proxy"]["epochs"]
    search_run = args.search_run if args.search_run.exists() else None
    archs = architectures(settings, search_run)
    own_path = args.out / f"{NAME}.json"
    have = existing(settings, args.reuse, search_run, own_path)
    jobs = missing_jobs(archs, have, settings)
    todo = jobs if args.max_trainings is None else jobs[:args.max_trainings]
    earlier = json.loads(own_path.read_text()) if own_path.exists() else {}
    estimates = {k: v for k, v in earlier.get("estimates", {}).items()
                 if same_tier(earlier.get("settings", {}).get("resolved"), settings["resolved"])}
    print(f"{len(archs)} architectures; {len(have)} trainings found, {len(jobs)} missing, "
          f"{len(todo)} to train now; {len(archs) - len(estimates)} to estimate", flush=True)
    prepare_data(load_proxy_and_data(settings["tier"])[1])  # the data set once, before the workers share it
    runs = [run for key, run in have.items() if key[0] in archs and key[2] == epochs]
    trained: list[dict] = []  # this run's trainings
    started = time.time()

    def save() -> None:
        payload = {"settings": settings, "archs": archs, "runs": runs, "estimates": estimates,
                   "table": table(archs, runs, estimates, epochs),
                   "cost": cost(runs, estimates, len(jobs) - len(trained))}
        write_json(NAME, payload, args.out)

    def record_estimate(row: dict) -> None:
        estimates[row["arch"]] = {k: v for k, v in row.items() if k != "arch"}
        save()

    def record_training(row: dict) -> None:
        runs.append(row)
        trained.append(row)
        save()
        eta = (time.time() - started) / len(trained) * (len(todo) - len(trained))
        print(f"[{len(trained)}/{len(todo)}] {row['arch']} seed {row['seed']}: AP {row['ap']} | "
              f"ETA {eta / 60:.0f} min", flush=True)

    estimate_jobs = [{"arch": n, "spec": a["spec"], "tier": settings["tier"]} for n, a in archs.items()
                     if n not in estimates]
    train_in_parallel(estimate_jobs, 2, record_estimate, worker=estimate_one)
    train_in_parallel(todo, 2, record_training)
    save()
    written = write_run_folder(args.run_dir, table(archs, runs, estimates, epochs), runs, settings)
    left = len(jobs) - len(todo)
    print(f"table: {len(archs)} architectures, {len(runs)} trainings; run folder {args.run_dir} ({written} trials)"
          + (f"; {left} trainings still missing: run the same command again" if left else ""), flush=True)
    return 0


def cost(runs: list[dict], estimates: dict, missing: int) -> dict:
    """Trainings reused and trained for the table, their training seconds, the estimates' seconds
    and the trainings still missing."""
    own = [r for r in runs if not r.get("reused")]
    return {"trainings": len(runs), "trained_here": len(own), "reused": len(runs) - len(own), "still_missing": missing,
            "train_seconds_here": round(sum(r.get("train_seconds") or 0 for r in own), 1),
            "estimate_seconds": round(sum(v for e in estimates.values() for k, v in e.items()
                                          if k.endswith("_seconds")), 1)}


if __name__ == "__main__":
    sys.exit(main())
