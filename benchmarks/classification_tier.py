"""Classification tier: its measured cost, and how well its top-1 separates the paper's backbones.

Trains r50-sd, r0-sp53 and spinenet-49 (the scale-decreased baseline, the paper's R0-SP53 and the
discovered SpineNet-49) with 3 seeds each on the `classification` tier (`task=classification`:
the paper's classifier head, 600 synthetic one-object images at 128 px, top-1 on 200 held out),
two trainings at once on one thread each, as a search runs them. Reports per architecture top-1
mean +- standard error, params, multiply-adds and seconds per trial, the between/within spread
ratio and the seed-to-seed rank agreement (the proxy-fidelity benchmark's own functions), and
the z-scores of the paper's order r50-sd < r0-sp53, r50-sd < spinenet-49.
Resumable: every finished training is written to the JSON as it ends (with its provenance), and
a rerun with the same settings trains only what is missing.

Usage: python benchmarks/classification_tier.py [--seeds N] [--jobs J] [--quick] [--out DIR]
Writes results/benchmarks/classification_tier.json (or DIR/classification_tier.json).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import RESULTS_DIR, print_table, write_json
from proxy_fidelity import previous_runs, seed_agreement, spread_decomposition, train_in_parallel

from nas.config import compose_config, proxy_and_data, task_config
from search_space import get_builtin
from search_space.serialize import spec_from_dict, spec_to_dict

NAME = "classification_tier"
ARCHS = ("r50-sd", "r0-sp53", "spinenet-49")
FULL = {"overrides": ["task=classification"], "seeds": 3}
QUICK = {"overrides": ["task=classification", "proxy=smoke", "proxy.epochs=2", "data.synth_images=40",
                       "data.heldout_images=16", "data.synth_size=64"], "seeds": 2}


def resolved(overrides: list[str]) -> dict:
    """The proxy, data and task configs the overrides resolve to (plain JSON values)."""
    plain = compose_config(overrides)
    proxy, data = proxy_and_data(plain)
    return json.loads(json.dumps({"proxy": proxy.to_dict(), "data": data.to_dict(),
                                  "task": task_config(plain).to_dict()}))


def train_one(job: dict) -> dict:
    """One training on one thread (in a worker process): the result row of the job."""
    from proxy_trainer.provenance import training_provenance
    from proxy_trainer.train import train_and_evaluate

    plain = compose_config(job["overrides"])
    proxy, data = proxy_and_data(plain)
    task = task_config(plain)
    proxy = dataclasses.replace(proxy, seed=proxy.seed + job["seed"], num_threads=1)
    start = time.perf_counter()
    result = train_and_evaluate(spec_from_dict(job["spec"]), proxy, data, task=task)
    seconds = time.perf_counter() - start
    return {"arch": job["arch"], "seed": job["seed"], "status": result.status.value, **result.metrics,
            "params": result.params, "flops": result.flops, "train_seconds": result.train_seconds,
            "trial_seconds": round(seconds, 1), "provenance": training_provenance(proxy, data, task)}


def planned(settings: dict) -> list[dict]:
    return [{"arch": arch, "spec": spec_to_dict(get_builtin(arch)), "seed": seed, "overrides": settings["overrides"]}
            for seed in range(1, settings["seeds"] + 1) for arch in ARCHS]


def mean_se(values: list[float]) -> dict:
    """Mean, standard error (None for one value) and the values."""
    se = statistics.stdev(values) / len(values) ** 0.5 if len(values) > 1 else None
    return {"mean": statistics.fmean(values), "se": se, "values": values}


def z_score(low: dict, high: dict) -> float | None:
    """(high - low) in combined standard errors."""
    if low["se"] is None or high["se"] is None or not (low["se"] or high["se"]):
        return None
    return (high["mean"] - low["mean"]) / (low["se"] ** 2 + high["se"] ** 2) ** 0.5


def summarize(runs: list[dict]) -> dict:
    """Per-architecture top-1 and cost, spread decomposition, seed agreement, the paper's order."""
    top1 = {a: [r["top1"] if r["status"] == "ok" else 0.0 for r in runs if r["arch"] == a] for a in ARCHS}
    top1 = {a: v for a, v in top1.items() if v}
    per_arch = {}
    for arch, values in top1.items():
        rows = [r for r in runs if r["arch"] == arch]
        per_arch[arch] = {"top1": mean_se(values), "params": rows[0]["params"], "flops": rows[0]["flops"],
                          "trial_seconds": mean_se([r["trial_seconds"] for r in rows])}
    complete = len(top1) == len(ARCHS) and len({len(v) for v in top1.values()}) == 1 and len(top1[ARCHS[0]]) > 1
    summary = {"per_arch": per_arch}
    if complete:
        summary["spread"] = spread_decomposition(top1)
        summary["seed_agreement"] = seed_agreement(top1)
        summary["z"] = {f"{high} - {low}": z_score(per_arch[low]["top1"], per_arch[high]["top1"])
                        for low, high in (("r50-sd", "r0-sp53"), ("r50-sd", "spinenet-49"), ("r0-sp53", "spinenet-49"))}
    return summary


def print_summary(summary: dict) -> None:
    rows = []
    for arch, part in summary["per_arch"].items():
        top1, secs = part["top1"], part["trial_seconds"]
        se = "-" if top1["se"] is None else f"{top1['se']:.3f}"
        rows.append([arch, f"{top1['mean']:.3f} +- {se}", f"{part['params'] / 1e6:.3f}", f"{part['flops'] / 1e9:.3f}",
                     f"{secs['mean']:.0f}"])
    print_table(["architecture", "top-1", "params(M)", "GMACs", "s/trial"], rows)
    if "spread" in summary:
        spread, agree = summary["spread"], summary["seed_agreement"]
        ratio = "n/a" if spread["ratio"] is None else f"{spread['ratio']:.2f}"
        print(f"between/within {ratio} | seed-to-seed Kendall tau {agree['kendall_tau']:.2f}")
        print("z: " + ", ".join(f"{k} {'n/a' if v is None else f'{v:+.1f}'}" for k, v in summary["z"].items()))


def run_tier_benchmark(name: str, settings: dict, out: Path, jobs: int, report, masks: bool = False) -> dict:
    """Train what `settings` plan and `out/<name>.json` lacks, two (`jobs`) at once, writing the
    JSON with the summary after each training; returns the final summary. `report` gives the
    benchmark's `summarize(runs)`, `print_summary(summary)` and `row_text(row)` (a progress line).
    `masks`: the data are prepared with masks (the instance task)."""
    from proxy_trainer.data.prepare import prepare_data

    settings["resolved"] = resolved(settings["overrides"])
    data = proxy_and_data(compose_config(settings["overrides"]))[1]
    prepare_data(data, masks=masks)  # generate once, before the workers share its cache
    runs = previous_runs(out / f"{name}.json", settings)
    done = {(r["arch"], r["seed"]) for r in runs}
    todo = [job for job in planned(settings) if (job["arch"], job["seed"]) not in done]
    total = len(runs) + len(todo)
    print(f"{len(runs)} trainings found, {len(todo)} to train, {jobs} at a time", flush=True)

    def record(row: dict) -> None:
        runs.append(row)
        write_json(name, {"settings": settings, "runs": runs, "summary": report.summarize(runs)}, out)
        print(f"[{len(runs)}/{total}] {report.row_text(row)} ({row['trial_seconds']:.0f} s)", flush=True)

    train_in_parallel(todo, jobs, record, worker=train_one)
    summary = report.summarize(runs)
    report.print_summary(summary)
    print(f"\nwrote {write_json(name, {'settings': settings, 'runs': runs, 'summary': summary}, out)}")
    return summary


def tier_arguments(description: str, argv: list[str] | None):
    """The options every tier benchmark takes: --quick, --seeds, --jobs, --out."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help="smoke tier, 2 seeds (tests)")
    parser.add_argument("--seeds", type=int, help="seeds per architecture (default 3)")
    parser.add_argument("--jobs", type=int, default=2, help="trainings at once, one thread each (default 2)")
    parser.add_argument("--out", type=Path, default=RESULTS_DIR, help="folder of the JSON")
    return parser.parse_args(argv)


def row_text(row: dict) -> str:
    return f"{row['arch']} seed {row['seed']}: top-1 {row['top1']}"


def main(argv: list[str] | None = None) -> int:
    args = tier_arguments(__doc__.split("\n\n")[0], argv)
    settings = dict(QUICK if args.quick else FULL)
    if args.seeds is not None:
        settings["seeds"] = args.seeds
    run_tier_benchmark(NAME, settings, args.out, args.jobs, sys.modules[__name__])
    return 0


if __name__ == "__main__":
    sys.exit(main())
