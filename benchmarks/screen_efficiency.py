"""Does the predictor screen pay? Trainings to reach plain PPO's best, on surrogate rewards.

Claim measured: a controller behind the predictor screen (`controller/screen.py`: after a warmup
of 5 rewards, draw K = 8 proposals, train the one a random forest on the rewards so far predicts
best) reaches the best reward that plain PPO holds after B = 200 trainings in at most B/3
trainings. A "training" is a proposal whose reward is observed; screened-out proposals cost
nothing here (on the real proxy they cost a forest fit and K - 1 extra controller draws, seconds
against minutes of training).

Setup, shared with `controller_efficiency.py` (imported, not copied): its four reward families
(additive, interacting, noisy-additive, noisy-interacting) over the real resnet50 space, optimum
SCALE at a target spec; run r uses target r and controller seed r (the screen's predictor seed
is r too); CONCURRENCY trials outstanding, answered in its seeded random order. Contenders:
ppo, evolution and random at their defaults, and the same three behind the screen.

Per (family, run): the threshold is plain PPO's best at B (the true reward of its best
*observed* proposal among its first B, `controller_efficiency.summarize`). For every contender:
the trainings n until the true reward of its best observed proposal among its first n reaches
that threshold (None when it never does within B; averaged as B + 1, and the table gives how
many runs reached it). Aggregates are mean ± standard error over the runs; the ratio is the mean
over B, and the target is a ratio of at most 1/3. Also each contender's best at 50 and at B.

Usage: python benchmarks/screen_efficiency.py [--quick] [--jobs N] [--out DIR]
Writes results/benchmarks/screen_efficiency.json (or DIR/screen_efficiency.json).
"""

from __future__ import annotations

import argparse
import functools
import multiprocessing
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import machine_info, print_table, write_json
from controller_efficiency import (
    CONCURRENCY,
    FAMILIES,
    NOISE_SD,
    SCALE,
    run_search,
    standard_error,
    summarize,
    target_spec,
)

from controller import build_controller, build_screened
from search_space import SearchSpace

FULL = {"budget": 200, "budgets": (50, 200), "runs": 4, "warmup": 5}
QUICK = {"budget": 8, "budgets": (4, 8), "runs": 1, "warmup": 3}
BASELINE = "ppo"
TARGET_RATIO = 1 / 3
# contender label -> (controller name, screen options or None for the plain controller)
CONTENDERS = {
    "ppo": ("ppo", None),
    "evolution": ("evolution", None),
    "random": ("random", None),
    "ppo+screen": ("ppo", {"candidates": 8}),
    "evolution+screen": ("evolution", {"candidates": 8}),
    "random+screen": ("random", {"candidates": 8}),
}


def best_curve(trace: list[tuple]) -> list[float]:
    """curve[n - 1]: the true reward of the best observed among the first n trainings (ties: the earlier)."""
    curve, best = [], None
    for true, observed in trace:
        if best is None or observed > best[1]:
            best = (true, observed)
        curve.append(best[0])
    return curve


def trainings_to_reach(curve: list[float], threshold: float) -> int | None:
    """The least n whose best-observed true reward is at least `threshold` (None if no n is)."""
    return next((n + 1 for n, value in enumerate(curve) if value >= threshold), None)


def selection(screened_out: list[tuple], trace: list[tuple], score, target) -> dict:
    """What the screen chose: the mean true reward of the trained proposals and of the screened-out
    ones, and the correlation of the screened-out ones' predicted and true rewards (pooled over the
    run's refits)."""
    true = [score(p.spec, target) for p, _ in screened_out]
    predicted = [v for _, v in screened_out]
    corr = statistics.correlation(predicted, true) if len(true) > 2 and len(set(true)) > 1 and len(set(predicted)) > 1 \
        else None
    return {"trained_mean_true": statistics.fmean(t for t, _ in trace),
            "screened_out_mean_true": statistics.fmean(true) if true else None, "screened_out_corr": corr}


def build(space: SearchSpace, seed: int, *, name: str, screen: dict | None, warmup: int, built: list):
    """Contender `name` with `seed` (plain when `screen` is None, else behind the screen, predictor
    seed = `seed`); appended to `built` so the caller can read it after the search."""
    if screen is None:
        controller = build_controller(name, space, seed=seed)
    else:
        controller = build_screened(name, space, seed=seed, screen={**screen, "warmup": warmup, "seed": seed})
    built.append(controller)
    return controller


def run_contender(label: str, family: str, cfg: dict) -> dict:
    """Every run of one (contender, family) cell: best-observed curves, proposals drawn, seconds."""
    torch.set_num_threads(1)  # the controller's tensors are tiny; threads only add overhead
    name, screen = CONTENDERS[label]
    space = SearchSpace.from_seed("resnet50")
    started, runs = time.time(), []
    for run in range(cfg["runs"]):
        built: list = []
        factory = functools.partial(build, name=name, screen=screen, warmup=cfg["warmup"], built=built)
        run_started = time.time()
        trace = run_search(space, name, {}, family, run, cfg["budget"], factory=factory)
        row = {"curve": best_curve(trace), "best": summarize(trace, cfg["budgets"])["best"],
               "proposals_drawn": built[0].next_index, "seconds": round(time.time() - run_started, 1)}
        if screen is not None:
            row.update(selection(built[0].take_screened(), trace, FAMILIES[family][0], target_spec(space, run)))
        runs.append(row)
    seconds = round(time.time() - started, 1)
    print(f"  {label:17s} {family:18s} {seconds:6.1f}s", flush=True)
    return {"runs": runs, "seconds": seconds}


def run_cells(tasks: list[tuple[str, str]], cfg: dict, jobs: int) -> list[dict]:
    """Cells of (contender, family) tasks, in `jobs` processes."""
    if jobs <= 1:
        return [run_contender(label, family, cfg) for label, family in tasks]
    with ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = [pool.submit(run_contender, label, family, cfg) for label, family in tasks]
        return [f.result() for f in futures]


def summarize_cell(cell: dict, thresholds: list[float], cfg: dict) -> dict:
    """Trainings to each run's threshold (never: B + 1 in the mean), best at the budgets, draws."""
    budget = cfg["budget"]
    reach = [trainings_to_reach(r["curve"], t) for r, t in zip(cell["runs"], thresholds)]
    counted = [n if n is not None else budget + 1 for n in reach]
    mean = statistics.fmean(counted)
    return {
        "reach": reach,
        "reached": sum(n is not None for n in reach),
        "mean_reach": mean,
        "se_reach": standard_error(counted),
        "ratio": mean / budget,
        "meets_target": mean / budget <= TARGET_RATIO,
        "best": [r["best"] for r in cell["runs"]],
        "mean_best": {b: statistics.fmean(r["best"][b] for r in cell["runs"]) for b in cfg["budgets"]},
        "se_best": {b: standard_error([r["best"][b] for r in cell["runs"]]) for b in cfg["budgets"]},
        "proposals_drawn": [r["proposals_drawn"] for r in cell["runs"]],
        **{key: [r.get(key) for r in cell["runs"]]
           for key in ("trained_mean_true", "screened_out_mean_true", "screened_out_corr")},
        "seconds": cell["seconds"],
    }


def mean_se(mean: float, se: float | None, digits: int = 3) -> str:
    return f"{mean:.{digits}f}" if se is None else f"{mean:.{digits}f} ± {se:.{digits}f}"


def table_rows(summary: dict, cfg: dict) -> list[list]:
    rows = []
    for family in FAMILIES:
        for label, per_family in summary.items():
            s = per_family[family]
            rows.append([family, label, f"{s['reached']}/{len(s['reach'])}", mean_se(s["mean_reach"], s["se_reach"], 1),
                         f"{s['ratio']:.2f}", "yes" if s["meets_target"] else "no",
                         *[mean_se(s["mean_best"][b], s["se_best"][b]) for b in cfg["budgets"]],
                         round(statistics.fmean(s["proposals_drawn"]))])
    return rows


def selection_rows(summary: dict) -> list[list]:
    """Per screened contender and family: mean true reward of trained vs screened-out proposals, and
    the predicted-vs-true correlation over the screened-out ones (means over runs)."""
    rows = []
    for family in FAMILIES:
        for label, (_, screen) in CONTENDERS.items():
            if screen is None:
                continue
            s = summary[label][family]
            corr = [c for c in s["screened_out_corr"] if c is not None]
            rows.append([family, label, f"{statistics.fmean(s['trained_mean_true']):.4f}",
                         f"{statistics.fmean(s['screened_out_mean_true']):.4f}",
                         f"{statistics.fmean(corr):.2f}" if corr else "-"])
    return rows


def run_all(cfg: dict, jobs: int) -> tuple[dict, dict]:
    """Every (contender, family) cell; the thresholds (plain PPO's best at B per run) and summaries."""
    tasks = [(label, family) for label in CONTENDERS for family in FAMILIES]
    cells = dict(zip(tasks, run_cells(tasks, cfg, jobs)))
    thresholds = {family: [r["best"][cfg["budget"]] for r in cells[(BASELINE, family)]["runs"]] for family in FAMILIES}
    summary = {label: {family: summarize_cell(cells[(label, family)], thresholds[family], cfg) for family in FAMILIES}
               for label in CONTENDERS}
    return thresholds, summary


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny budget, one run (smoke test)")
    parser.add_argument("--out", type=Path, default=None, help="output folder (default results/benchmarks)")
    parser.add_argument("--jobs", type=int, default=1, help="processes running cells in parallel (e.g. 2 on 2 cores)")
    args = parser.parse_args(argv)
    cfg = QUICK if args.quick else FULL
    started = time.time()
    thresholds, summary = run_all(cfg, args.jobs)
    budget = cfg["budget"]
    print_table(["family", "contender", "reached", f"trainings to ppo's best@{budget}", "ratio", "<= 1/3",
                 *[f"best@{b}" for b in cfg["budgets"]], "drawn"], table_rows(summary, cfg))
    print_table(["family", "contender", "mean true: trained", "screened out", "corr(predicted, true)"],
                selection_rows(summary))
    seconds = round(time.time() - started, 1)
    path = write_json("screen_efficiency", {
        "mode": "quick" if args.quick else "full", "budget": budget, "budgets": list(cfg["budgets"]),
        "runs": cfg["runs"], "jobs": args.jobs, "concurrency": CONCURRENCY, "noise_sd": NOISE_SD, "scale": SCALE,
        "baseline": BASELINE, "target_ratio": TARGET_RATIO, "never_counts_as": budget + 1,
        "screen": {"kind": "forest", "warmup": cfg["warmup"], "seed": "run"},
        "contenders": {label: {"controller": name, "screen": screen} for label, (name, screen) in CONTENDERS.items()},
        "thresholds": thresholds, "results": summary, "seconds": seconds,
        "machine_note": machine_info().get("processor"),
    }, args.out)
    print(f"wrote {path} in {seconds:.0f}s")


if __name__ == "__main__":
    main()
