"""Proxy fidelity: does the cpu-tier reward separate architectures by more than seed noise?

Trains each architecture (spinenet-49, r0-sp53, r50-sd, the r50-fpn baseline and a few seeded
random specs from the ResNet-50 space) with several seeds on two schedules: the `cpu` tier as it
is (`short`) and the same tier with more epochs (`long`). Reports, per schedule:
- AP mean and spread per architecture, and FLOPs;
- within-architecture spread (pooled seed-to-seed sd) vs between-architecture spread (sd of the
  per-architecture means), and their ratio;
- rank agreement of the architectures across seeds (mean pairwise Kendall tau and Spearman rho);
and the rank agreement of the per-architecture mean AP between the short and the long schedule.
Seeds are proxy.seed + 1 .. proxy.seed + N, as `nas retrain` uses. Each training runs in its own
process on one thread; results are written after every run, and a rerun with the same settings
continues from the JSON it finds (so an interrupted benchmark loses at most the runs in flight).

Usage: python benchmarks/proxy_fidelity.py [--random N] [--seeds N] [--long-epochs E] [--jobs J]
                                           [--quick] [--out DIR]
Writes results/benchmarks/proxy_fidelity.json (or DIR/proxy_fidelity.json).
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
import multiprocessing
import statistics
import sys
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import RESULTS_DIR, print_table, write_json

from nas.config import load_proxy_and_data
from search_space import SearchSpace, get_builtin
from search_space.serialize import spec_from_dict, spec_to_dict

NAME = "proxy_fidelity"
BASELINE = "r50-fpn"
KNOWN = ("spinenet-49", "r0-sp53", "r50-sd")
FULL = {"tier": ["proxy=cpu"], "random": 3, "seeds": 3, "long_epochs": 8}
QUICK = {
    "tier": ["proxy=smoke", "proxy.epochs=2", "data.synth_images=32", "data.heldout_images=8", "data.synth_size=64"],
    "random": 1, "seeds": 2, "long_epochs": 3,
}


# ---- statistics (pure) -------------------------------------------------------------------
def kendall_tau(xs: list[float], ys: list[float]) -> float:
    """Kendall's tau-a of two paired sequences (ties count as neither concordant nor discordant)."""
    pairs = list(itertools.combinations(range(len(xs)), 2))
    score = sum(_sign((xs[i] - xs[j]) * (ys[i] - ys[j])) for i, j in pairs)
    return score / len(pairs)


def kendall_tau_b(xs: list[float], ys: list[float]) -> float | None:
    """Kendall's tau-b: tau-a corrected for ties (1 for identical orders even with repeated
    values, as bootstrap resamples have); None when a side is constant."""
    pairs = list(itertools.combinations(range(len(xs)), 2))
    score = sum(_sign((xs[i] - xs[j]) * (ys[i] - ys[j])) for i, j in pairs)
    untied_x = sum(xs[i] != xs[j] for i, j in pairs)
    untied_y = sum(ys[i] != ys[j] for i, j in pairs)
    return score / (untied_x * untied_y) ** 0.5 if untied_x and untied_y else None


def _sign(value: float) -> int:
    return (value > 0) - (value < 0)


def ranks(values: list[float]) -> list[float]:
    """1-based ranks, ties sharing their average rank."""
    order = sorted(range(len(values)), key=values.__getitem__)
    result = [0.0] * len(values)
    start = 0
    while start < len(order):
        end = start
        while end + 1 < len(order) and values[order[end + 1]] == values[order[start]]:
            end += 1
        for k in range(start, end + 1):
            result[order[k]] = (start + end) / 2 + 1
        start = end + 1
    return result


def spearman_rho(xs: list[float], ys: list[float]) -> float | None:
    """Spearman's rho: the Pearson correlation of the ranks; None when a side is constant."""
    try:
        return statistics.correlation(ranks(xs), ranks(ys))
    except statistics.StatisticsError:
        return None


def bootstrap_rank_agreement(xs: list[float], ys: list[float], resamples: int = 2000, seed: int = 0) -> dict:
    """Kendall tau-b and Spearman rho of paired values, with 95% bootstrap intervals (seeded
    resampling of the pairs with replacement; resamples with a constant side are skipped)."""
    import random

    rng = random.Random(seed)
    taus, rhos = [], []
    for _ in range(resamples):
        pick = [rng.randrange(len(xs)) for _ in xs]
        if len({xs[i] for i in pick}) > 1 and len({ys[i] for i in pick}) > 1:
            taus.append(kendall_tau_b([xs[i] for i in pick], [ys[i] for i in pick]))
            rhos.append(spearman_rho([xs[i] for i in pick], [ys[i] for i in pick]))
    return {"n": len(xs), "kendall_tau": kendall_tau_b(xs, ys), "spearman_rho": spearman_rho(xs, ys),
            "kendall_tau_95": interval_95(taus), "spearman_rho_95": interval_95(rhos), "resamples": resamples}


def interval_95(values: list[float | None]) -> list[float] | None:
    """The 2.5% and 97.5% quantiles of the defined values (None when there are none)."""
    values = sorted(v for v in values if v is not None)
    return [values[int(0.025 * len(values))], values[int(0.975 * len(values)) - 1]] if values else None


def mean_defined(values) -> float | None:
    """Mean of the values that are not None; None when none is."""
    defined = [v for v in values if v is not None]
    return statistics.fmean(defined) if defined else None


def spread_decomposition(ap: dict[str, list[float]]) -> dict:
    """Within-architecture sd (pooled over seeds), between-architecture sd (of the means), ratio."""
    within = statistics.fmean(statistics.variance(v) for v in ap.values()) ** 0.5
    between = statistics.stdev(statistics.fmean(v) for v in ap.values())
    return {"within_sd": within, "between_sd": between, "ratio": between / within if within else None}


def seed_agreement(ap: dict[str, list[float]]) -> dict:
    """Mean Kendall tau and Spearman rho of the architecture ranking over all pairs of seeds."""
    names = sorted(ap)
    columns = list(zip(*(ap[n] for n in names)))  # one tuple of per-architecture APs per seed
    pairs = list(itertools.combinations(columns, 2))
    return {
        "kendall_tau": statistics.fmean(kendall_tau(list(a), list(b)) for a, b in pairs),
        "spearman_rho": mean_defined(spearman_rho(list(a), list(b)) for a, b in pairs),
        "seed_pairs": len(pairs),
    }


def schedule_summary(runs: list[dict]) -> dict:
    """Per-architecture AP and FLOPs, spread decomposition and seed agreement of one schedule."""
    ap: dict[str, list[float]] = {}
    flops: dict[str, int] = {}
    for run in runs:
        ap.setdefault(run["arch"], []).append(run["ap"] if run["status"] == "ok" else 0.0)
        flops[run["arch"]] = run["flops"]
    per_arch = {
        name: {"ap_mean": statistics.fmean(v), "ap_sd": statistics.stdev(v) if len(v) > 1 else 0.0,
               "ap": v, "flops": flops[name]}
        for name, v in sorted(ap.items())
    }
    return {"per_arch": per_arch, "spread": spread_decomposition(ap), "seed_agreement": seed_agreement(ap)}


def schedule_agreement(short: dict, long: dict) -> dict:
    """Rank agreement of the per-architecture mean AP between two schedules."""
    names = sorted(set(short["per_arch"]) & set(long["per_arch"]))
    xs = [short["per_arch"][n]["ap_mean"] for n in names]
    ys = [long["per_arch"][n]["ap_mean"] for n in names]
    return {"kendall_tau": kendall_tau(xs, ys), "spearman_rho": spearman_rho(xs, ys), "architectures": len(names)}


# ---- runs ----------------------------------------------------------------------------------
def architectures(random_count: int) -> dict[str, dict | None]:
    """Name -> spec dict (None for the r50-fpn baseline): the known ones and seeded random specs."""
    archs: dict[str, dict | None] = {name: spec_to_dict(get_builtin(name)) for name in KNOWN}
    archs[BASELINE] = None
    space = SearchSpace.from_seed("resnet50")
    for k in range(random_count):
        spec = space.sample_spec(0, k)
        archs[spec.name] = spec_to_dict(spec)
    return archs


def resolved_tier(overrides: list[str]) -> dict:
    """The proxy and data configs a tier's overrides resolve to, as JSON values: two benchmark
    runs of the same tier name measured the same setting only if these match (a tier file may
    change between them)."""
    proxy, data = load_proxy_and_data(overrides)
    return json.loads(json.dumps({"proxy": proxy.to_dict(), "data": data.to_dict()}))


def normalized_tier(resolved: dict) -> dict:
    """A tier's resolved configs read through today's config classes: a setting added since the
    record was made takes its default, so a training recorded before it still matches.

    Raises:
        UserInputError: a key today's configs no longer know, or a bad value.
    """
    from proxy_trainer.config import DataConfig, ProxyConfig

    return json.loads(json.dumps({"proxy": ProxyConfig.from_dict(resolved["proxy"]).to_dict(),
                                  "data": DataConfig.from_dict(resolved["data"]).to_dict()}))


def same_tier(recorded: dict | None, wanted: dict) -> bool:
    """Whether a recorded tier's resolved configs are `wanted`'s (both normalized); a record
    without them, or with keys no longer known, is not."""
    from search_space.errors import UserInputError

    if not recorded:
        return False
    try:
        return normalized_tier(recorded) == normalized_tier(wanted)
    except (UserInputError, KeyError, TypeError):
        return False


def train_one(job: dict) -> dict:
    """One training on one thread (runs in a worker process); the result row of the job."""
    from proxy_trainer.train import train_and_evaluate

    proxy, data = load_proxy_and_data(job["tier"])
    proxy = dataclasses.replace(proxy, epochs=job["epochs"], seed=proxy.seed + job["seed"], num_threads=1)
    spec = spec_from_dict(job["spec"]) if job["spec"] is not None else None
    result = train_and_evaluate(spec, proxy, data)
    flat = result.flat()
    keep = ("status", "ap", "ap50", "ap75", "aps", "apm", "apl", "flops", "params", "train_seconds")
    return {**{k: job[k] for k in ("schedule", "arch", "seed", "epochs")}, **{k: flat.get(k) for k in keep},
            "curve": epoch_curve(result)}


def epoch_curve(result) -> list[dict]:
    """Per-epoch loss and metrics of a `TrialResult` (the tier's evaluation after each epoch)."""
    return [{"epoch": r.epoch, "loss": r.loss, **{k: None if v is None else round(v, 4) for k, v in r.metrics.items()}}
            for r in result.epochs]


def planned_jobs(settings: dict, base_epochs: int) -> list[dict]:
    """Every (schedule, architecture, seed) training the settings ask for."""
    epochs = {"short": base_epochs, "long": settings["long_epochs"]}
    return [
        {"schedule": schedule, "arch": name, "spec": spec, "seed": seed, "epochs": epochs[schedule],
         "tier": settings["tier"]}
        for schedule in ("short", "long")
        for seed in range(1, settings["seeds"] + 1)
        for name, spec in architectures(settings["random"]).items()
    ]


def _key(row: dict) -> tuple:
    return row["schedule"], row["arch"], row["seed"], row["epochs"]


def previous_runs(path: Path, settings: dict) -> list[dict]:
    """Runs of an earlier, interrupted benchmark with the same settings (else none)."""
    if not path.exists():
        return []
    old = json.loads(path.read_text())
    return old.get("runs", []) if old.get("settings") == settings else []


def train_in_parallel(jobs: list[dict], workers: int, on_result, worker=None) -> None:
    """Run `worker` (default `train_one`) over the jobs, `workers` processes at once;
    `on_result(row)` as each ends."""
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        for future in as_completed([pool.submit(worker or train_one, job) for job in jobs]):
            on_result(future.result())


def run_all(settings: dict, workers: int, out_dir: Path) -> list[dict]:
    """Train every planned job not already in the JSON, saving after each; returns all runs."""
    from proxy_trainer.data.prepare import prepare_data

    proxy, data = load_proxy_and_data(settings["tier"])
    prepare_data(data)  # generate the synthetic set once, before the workers share its cache
    runs = previous_runs(out_dir / f"{NAME}.json", settings)
    done = {_key(r) for r in runs}
    todo = [j for j in planned_jobs(settings, proxy.epochs) if _key(j) not in done]
    total = len(runs) + len(todo)
    print(f"{len(runs)} runs found, {len(todo)} to train with {workers} at a time", flush=True)

    def record(row: dict) -> None:
        runs.append(row)
        write_json(NAME, {"settings": settings, "runs": runs}, out_dir)
        print(f"[{len(runs)}/{total}] {row['schedule']} {row['arch']} seed {row['seed']}: AP {row['ap']}", flush=True)

    train_in_parallel(todo, workers, record)
    return runs


def summarize(runs: list[dict]) -> dict:
    """Both schedules' summaries and their agreement."""
    by = {s: schedule_summary([r for r in runs if r["schedule"] == s]) for s in ("short", "long")}
    return {**by, "short_vs_long": schedule_agreement(by["short"], by["long"])}


def print_summary(summary: dict) -> None:
    for schedule in ("short", "long"):
        part = summary[schedule]
        print(f"\n{schedule} schedule: AP per architecture (mean ± sd over seeds)")
        rows = [[name, f"{a['ap_mean']:.4f} ± {a['ap_sd']:.4f}", f"{a['flops'] / 1e9:.3f}"]
                for name, a in sorted(part["per_arch"].items(), key=lambda kv: -kv[1]["ap_mean"])]
        print_table(["architecture", "AP", "GFLOPs"], rows)
        spread, agree = part["spread"], part["seed_agreement"]
        print(f"within sd {spread['within_sd']:.4f} | between sd {spread['between_sd']:.4f} | "
              f"ratio {_num(spread['ratio'])} | seed-to-seed Kendall tau {_num(agree['kendall_tau'])}, "
              f"Spearman rho {_num(agree['spearman_rho'])}")
    cross = summary["short_vs_long"]
    print(f"\nshort vs long mean-AP ranking: Kendall tau {_num(cross['kendall_tau'])}, "
          f"Spearman rho {_num(cross['spearman_rho'])} over {cross['architectures']} architectures")


def _num(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smoke tier, 2 seeds, 1 random spec (tests)")
    parser.add_argument("--random", type=int, help="random specs from the space (default 3)")
    parser.add_argument("--seeds", type=int, help="seeds per architecture (default 3)")
    parser.add_argument("--long-epochs", type=int, help="epochs of the long schedule (default 8)")
    parser.add_argument("--jobs", type=int, default=2, help="trainings at once, one thread each (default 2)")
    parser.add_argument("--out", type=Path, default=RESULTS_DIR, help="folder of the JSON")
    args = parser.parse_args(argv)
    settings = dict(QUICK if args.quick else FULL)
    for key in ("random", "seeds", "long_epochs"):
        if getattr(args, key) is not None:
            settings[key] = getattr(args, key)
    settings["resolved"] = resolved_tier(settings["tier"])
    runs = run_all(settings, args.jobs, args.out)
    summary = summarize(runs)
    print_summary(summary)
    path = write_json(NAME, {"settings": settings, "runs": runs, "summary": summary}, args.out)
    print(f"\nwrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
