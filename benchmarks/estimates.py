"""Cheap estimates scored against the ground-truth table (`make bench-estimates`), and whether
using them pays on a pool of trained architectures. Reads results/benchmarks/ground_truth.json
(`make ground-truth`); trains nothing.

1. Rank agreement of each estimate with the table's mean AP over seeds (Kendall tau-b and
   Spearman rho with 95% bootstrap intervals, proxy_fidelity.bootstrap_rank_agreement): params,
   FLOPs, the zero-cost scores (proxy_trainer/estimates/zero_cost.py says what each scores, its
   loss and BN mode), and the AP after the first epoch and after half the schedule read from the
   trainings' per-epoch curves (architectures without a curve are left out of those two, and the
   count says so).
2. The learned predictor (controller/predictor.py on controller/features.py's per-block
   features) by cross-validation: fitted on n = 10 / 20 / 30 architectures drawn at random, scored
   by Kendall tau on the rest, over `SPLITS` seeded splits (mean +- standard error). r50-fpn has
   no decisions and is left out here and below.
3. Does it pay on the pool: the candidates are the table's architectures; "training" one reveals
   its recorded AP (run r reveals seed r mod the architecture's seed count, so the revealed value
   carries seed noise as a search's would); counted are the trainings until the table's top-1
   and until any top-3 architecture (by mean AP) is revealed. Orders: random; the order of the
   zero-cost score with the highest Kendall tau (chosen on this same table: an optimistic
   reading); the predictor's order, refitted after each reveal, after `START` random reveals.

Usage: python benchmarks/estimates.py [--table JSON] [--runs N] [--out DIR]
Writes results/benchmarks/estimates.json (or DIR/estimates.json) and estimates.png beside it.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import RESULTS_DIR, print_table, write_json
from proxy_fidelity import bootstrap_rank_agreement, kendall_tau_b

from search_space.serialize import spec_from_dict

NAME = "estimates"
ZERO_COST = ("grad_norm", "snip", "synflow", "naswot")
SIZES = (10, 20, 30)  # predictor training-set sizes
SPLITS = 20  # random train/test splits per size
START = 5  # random reveals before the predictor orders the pool
RUNS = 20  # pool-based runs per order


# ---- 1. rank agreement -----------------------------------------------------------------------
def estimate_values(row: dict, epochs: int) -> dict[str, float | None]:
    """Every estimate of one table row (None where it is missing); synflow as log10 (its raw value
    spans dozens of orders of magnitude; ranks are unchanged)."""
    estimates = row.get("estimates") or {}
    values = {"params": row.get("params"), "flops": row.get("flops")}
    for name in ZERO_COST:
        value = estimates.get(name)
        values[name] = None if value is None or not math.isfinite(value) else value
    if values["synflow"] is not None and values["synflow"] > 0:
        values["synflow"] = math.log10(values["synflow"])
    curve = row.get("curve_ap") or []
    half = epochs // 2
    values["ap_epoch1"] = curve[0] if len(curve) >= 1 and epochs > 1 else None
    values[f"ap_epoch{half}"] = curve[half - 1] if len(curve) >= half and half < epochs else None
    return values


def rank_agreements(table: dict[str, dict], epochs: int) -> dict[str, dict]:
    """Estimate -> its rank agreement with the mean AP over the architectures that have it."""
    values = {name: estimate_values(row, epochs) for name, row in table.items()}
    names = list(next(iter(values.values())))
    out = {}
    for estimate in names:
        have = [n for n in table if values[n][estimate] is not None]
        if len(have) >= 3:
            out[estimate] = bootstrap_rank_agreement([values[n][estimate] for n in have], [table[n]["ap"] for n in have])
    return out


# ---- 2. the predictor by cross-validation ----------------------------------------------------
def decided(table: dict[str, dict]) -> list[str]:
    """The table's architectures with decisions (a spec), in table order."""
    return [name for name, row in table.items() if row.get("spec") is not None]


def cross_validation(table: dict[str, dict], kind: str, sizes=SIZES, splits: int = SPLITS) -> dict:
    """Per training-set size: Kendall tau of the predictor on the held-out architectures, mean and
    standard error over seeded random splits (sizes that leave fewer than 3 to test are skipped)."""
    from controller.predictor import RewardPredictor

    names = decided(table)
    specs = {n: spec_from_dict(table[n]["spec"]) for n in names}
    out = {}
    for size in (s for s in sizes if len(names) - s >= 3):
        taus = []
        for split in range(splits):
            train = random.Random(f"cv:{size}:{split}").sample(names, size)
            test = [n for n in names if n not in train]
            predictor = RewardPredictor(kind, seed=split)
            predictor.fit([specs[n] for n in train], [table[n]["ap"] for n in train])
            tau = kendall_tau_b(predictor.predict([specs[n] for n in test]), [table[n]["ap"] for n in test])
            taus.append(0.0 if tau is None else tau)
        out[size] = {"kendall_tau": statistics.fmean(taus), "se": statistics.stdev(taus) / len(taus) ** 0.5,
                     "splits": splits, "tested": len(names) - size}
    return out


# ---- 3. does it pay on the pool --------------------------------------------------------------
def revealed(row: dict, run: int) -> float:
    """What training an architecture reveals in run `run`: one seed's AP."""
    seeds = row["ap_per_seed"]
    return seeds[run % len(seeds)]


def trainings_to_find(order: list[str], top1: str, top3: set[str]) -> dict[str, int]:
    """1-based positions of the top-1 and of the first top-3 architecture in a reveal order."""
    return {"top1": order.index(top1) + 1, "top3": min(order.index(n) for n in top3) + 1}


def predictor_order(table: dict[str, dict], names: list[str], run: int, kind: str, start: int = START) -> list[str]:
    """`start` random reveals, then always the unrevealed architecture the predictor, refitted on
    every reveal so far, ranks first."""
    from controller.predictor import RewardPredictor

    specs = {n: spec_from_dict(table[n]["spec"]) for n in names}
    order = random.Random(f"pool:{run}").sample(names, start)
    while len(order) < len(names):
        predictor = RewardPredictor(kind, seed=run)
        predictor.fit([specs[n] for n in order], [revealed(table[n], run) for n in order])
        left = [n for n in names if n not in order]
        scores = predictor.predict([specs[n] for n in left])
        order.append(left[max(range(len(left)), key=lambda i: (scores[i], -i))])
    return order


def pool_study(table: dict[str, dict], best_zero_cost: str, kind: str, runs: int = RUNS, epochs: int = 0) -> dict:
    """Trainings to reveal the top-1 and a top-3 architecture, per order, mean and standard error."""
    names = decided(table)
    ranked = sorted(names, key=lambda n: -table[n]["ap"])
    top1, top3 = ranked[0], set(ranked[:3])
    zero_cost = sorted(names, key=lambda n: -estimate_values(table[n], epochs)[best_zero_cost])
    orders = {
        "random": lambda r: random.Random(f"pool:{r}").sample(names, len(names)),
        f"zero-cost ({best_zero_cost})": lambda r: zero_cost,
        f"predictor ({kind}, {START} random first)": lambda r: predictor_order(table, names, r, kind),
    }
    out = {}
    for label, order_of in orders.items():
        found = [trainings_to_find(order_of(r), top1, top3) for r in range(runs)]
        out[label] = {key: {"mean": statistics.fmean(f[key] for f in found),
                            "se": statistics.stdev([f[key] for f in found]) / runs ** 0.5} for key in ("top1", "top3")}
    return {"pool": len(names), "top1": top1, "top3": sorted(top3), "runs": runs, "orders": out}


# ---- report ----------------------------------------------------------------------------------
def figure(agreements: dict, cv: dict, path: Path) -> None:
    """Left: each estimate's Kendall tau with its 95% interval; right: predictor tau vs training size."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    names = list(agreements)
    taus = [agreements[n]["kendall_tau"] or 0.0 for n in names]
    low = [t - (agreements[n]["kendall_tau_95"] or [t, t])[0] for t, n in zip(taus, names)]
    high = [(agreements[n]["kendall_tau_95"] or [t, t])[1] - t for t, n in zip(taus, names)]
    left.barh(names, taus, xerr=[low, high], color="#4c72b0", capsize=3)
    left.axvline(0, color="black", linewidth=0.8)
    left.set_xlabel("Kendall tau with mean AP (95% bootstrap)")
    left.invert_yaxis()
    for kind, sizes in cv.items():
        xs = [int(s) for s in sizes]
        right.errorbar(xs, [sizes[s]["kendall_tau"] for s in sizes], yerr=[sizes[s]["se"] for s in sizes],
                       marker="o", capsize=3, label=kind)
    right.axhline(0, color="black", linewidth=0.8)
    right.set_xlabel("architectures the predictor is fitted on")
    right.set_ylabel("Kendall tau on the rest (mean +- se)")
    right.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def interval(agreement: dict, key: str) -> str:
    value, bounds = agreement[key], agreement[f"{key}_95"]
    if value is None:
        return "-"
    return f"{value:+.2f} [{bounds[0]:+.2f}, {bounds[1]:+.2f}]" if bounds else f"{value:+.2f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--table", type=Path, default=RESULTS_DIR / "ground_truth.json")
    parser.add_argument("--runs", type=int, default=RUNS, help="pool-based runs per order")
    parser.add_argument("--out", type=Path, default=RESULTS_DIR)
    args = parser.parse_args(argv)
    if not args.table.exists():
        print(f"estimates: {args.table} does not exist; build it first with `make ground-truth`", file=sys.stderr)
        return 2
    started = time.time()
    source = json.loads(args.table.read_text())
    table, epochs = source["table"], source["settings"]["resolved"]["proxy"]["epochs"]
    agreements = rank_agreements(table, epochs)
    print_table(["estimate", "architectures", "Kendall tau [95%]", "Spearman rho [95%]"],
                [[n, a["n"], interval(a, "kendall_tau"), interval(a, "spearman_rho")] for n, a in agreements.items()])
    cv = {kind: cross_validation(table, kind) for kind in ("forest", "gbm", "gp")}
    print_table(["predictor", *[f"tau @ n={s}" for s in SIZES]],
                [[kind, *[f"{v[s]['kendall_tau']:+.2f} ± {v[s]['se']:.2f}" if s in v else "-" for s in SIZES]]
                 for kind, v in cv.items()])
    best_zero_cost = max(ZERO_COST, key=lambda n: (agreements.get(n) or {}).get("kendall_tau") or -2)
    pool = pool_study(table, best_zero_cost, "forest", args.runs, epochs)
    print_table(["order", "trainings to top-1", "trainings to a top-3"],
                [[label, f"{o['top1']['mean']:.1f} ± {o['top1']['se']:.1f}", f"{o['top3']['mean']:.1f} ± {o['top3']['se']:.1f}"]
                 for label, o in pool["orders"].items()])
    args.out.mkdir(parents=True, exist_ok=True)
    figure(agreements, cv, args.out / f"{NAME}.png")
    payload = {"table": str(args.table), "architectures": len(table), "epochs": epochs, "agreements": agreements,
               "cross_validation": cv, "pool": pool, "seconds": round(time.time() - started, 1)}
    print(f"wrote {write_json(NAME, payload, args.out)} and {args.out / f'{NAME}.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
