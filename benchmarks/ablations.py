"""The paper's ablations on the repro proxy tier (`make ablations`): Tables 8 and 9 (docs/facts.md §7).

Table 8 — is a learned scale permutation better than a hand-made shape? `nas search` in spaces
whose ordering is fixed to `hourglass` or `fish` (connections, level adjustments and block types
still searched), with the same tier, trial budget, controller and seed as the learned arm, which
is the repro-mini search (results/runs/repro-mini; run here if it is missing). `--space r0-sp53`
runs all three arms in the R0-SP53 space instead (orderings and connections only, no level or
type adjustments, so a fixed shape is exactly that shape), into ablation-r0-sp53-<ordering> run
folders and results/benchmarks/ablations_r0-sp53.json. Reported per arm:
best reward, mean of the top 3, mean over successful trials, and the arm's best architecture
retrained on the long schedule with several seeds (the 4-epoch reward alone is noisy).

Table 9 — do cross-scale connections matter? An architecture (default r0-sp53, as the paper;
any SOURCE such as `results/runs/repro-mini:best`) and its three damaged forms
(`search_space/ablations.py`: no-short-range, no-long-range, sequential) trained on the long
schedule with several seeds, two at once; AP mean ± sd, params and FLOPs.

Usage: python benchmarks/ablations.py [--tables 8 9] [--space S] [--arch SOURCE] [--trials N] [--seeds N]
                                      [--long-epochs E] [--reuse JSON ...] [--quick] [--out DIR] [--runs DIR]
`--tables 9` runs Table 9 alone (no searches). `--reuse results/benchmarks/proxy_design.json`
takes trainings with the same settings from earlier benchmark JSON files (here the intact
architecture's study trainings); a rerun keeps the trainings its earlier JSON holds (same
settings) and trains only what is new. Writes results/benchmarks/ablations.json.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import RESULTS_DIR, print_table, write_json
from proxy_fidelity import resolved_tier
from repro_mini import FULL, QUICK, ROOT, per_arch, retrain_all, reusable, search, winners

from search_space.ablations import DAMAGES
from search_space.orderings import FISH, HOURGLASS, SEARCHED
from search_space.serialize import spec_to_dict

NAME = "ablations"
LEARNED_RUN = "repro-mini"
DEFAULT_SPACE = "resnet50"


def ordering_runs(settings: dict, runs_root: Path, space: str) -> dict[str, Path]:
    """Run (or keep) one search per ordering in `space`; ordering -> run folder. In the default
    space the learned arm is the repro-mini search."""
    if space == DEFAULT_SPACE:
        folders = {SEARCHED: runs_root / LEARNED_RUN, **{o: runs_root / f"ablation-{o}" for o in (HOURGLASS, FISH)}}
    else:
        folders = {o: runs_root / f"ablation-{space}-{o}" for o in (SEARCHED, HOURGLASS, FISH)}
    for ordering, folder in folders.items():
        fixed = () if ordering == SEARCHED else (f"+space.overrides.ordering={ordering}",)
        search(settings, folder, f"space={space}", *fixed)
    return folders


def search_rewards(run_dir: Path, trials: int) -> list[float]:
    """Rewards of the run's first `trials` trials, in trial order (failed trials count as 0)."""
    from nas.inspect.runs import load_run

    rows = load_run(str(run_dir)).trials[:trials]
    return [t["reward"] if t["reward"] is not None else 0.0 for t in rows]


def ordering_summary(rewards: list[float]) -> dict:
    """Best, top-3 mean and mean of one arm's rewards."""
    top = sorted(rewards, reverse=True)[:3]
    return {"trials": len(rewards), "best": max(rewards), "top3_mean": statistics.fmean(top),
            "mean": statistics.fmean(rewards), "rewards": rewards}


def arm_bests(folders: dict[str, Path]) -> dict[str, dict]:
    """Name -> spec dict of each ordering arm's best trial by search reward."""
    bests = {ordering: winners(folder, 1)[0] for ordering, folder in folders.items()}
    return {f"{ordering}-best ({row['trial_id']})": row["spec"] for ordering, row in bests.items()}


def damaged_archs(source: str) -> dict[str, dict]:
    """Name -> spec dict of the architecture and its three damaged forms."""
    from nas.sources import resolve_source

    specs = [resolve_source(source).spec, *(resolve_source(f"{source}~{d}").spec for d in DAMAGES)]
    return {spec.name: spec_to_dict(spec) for spec in specs}


def _retrain_rows(table: dict[str, dict], names) -> list[list]:
    return [[n, f"{table[n]['ap_mean']:.4f} ± {table[n]['ap_sd']:.4f}", f"{table[n]['flops'] / 1e9:.3f}"] for n in names]


def print_results(orderings: dict[str, dict], table: dict[str, dict], bests, damaged, settings: dict) -> None:
    retrained = f"{settings['long_epochs']} epochs, {settings['seeds']} seeds"
    if orderings:
        print(f"\nTable 8: orderings, {settings['trials']} trials each (reward = AP)")
        print_table(["ordering", "best", "top-3 mean", "mean"],
                    [[o, f"{s['best']:.4f}", f"{s['top3_mean']:.4f}", f"{s['mean']:.4f}"] for o, s in orderings.items()])
        print(f"\neach arm's best retrained ({retrained})")
        print_table(["architecture", "AP", "GFLOPs"], _retrain_rows(table, bests))
    print(f"\nTable 9: connections ({retrained})")
    print_table(["architecture", "AP", "GFLOPs"], _retrain_rows(table, damaged))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smoke tier, 2 trials, 2 seeds (tests)")
    parser.add_argument("--tables", nargs="+", choices=("8", "9"), default=["8", "9"], help="which tables (default both)")
    parser.add_argument("--space", default=DEFAULT_SPACE, help="search space of the Table 8 arms (default resnet50)")
    parser.add_argument("--arch", default="r0-sp53", help="SOURCE whose connections are damaged (default r0-sp53)")
    for key in ("trials", "seeds", "long-epochs"):
        parser.add_argument(f"--{key}", type=int, help=f"default {FULL[key.replace('-', '_')]}")
    parser.add_argument("--reuse", type=Path, nargs="*", default=[], help="benchmark JSON files whose runs may be reused")
    parser.add_argument("--out", type=Path, default=RESULTS_DIR, help="folder of the JSON")
    parser.add_argument("--runs", type=Path, default=ROOT / "results" / "runs", help="folder of the search runs")
    args = parser.parse_args(argv)
    settings = dict(QUICK if args.quick else FULL)
    for key in ("trials", "seeds", "long_epochs"):
        if getattr(args, key) is not None:
            settings[key] = getattr(args, key)
    settings["resolved"] = resolved_tier(settings["tier"])
    folders = ordering_runs(settings, args.runs.resolve(), args.space) if "8" in args.tables else {}
    name = NAME if args.space == DEFAULT_SPACE else f"{NAME}_{args.space}"
    orderings = {o: ordering_summary(search_rewards(f, settings["trials"])) for o, f in folders.items()}
    bests = arm_bests(folders)
    damaged = damaged_archs(args.arch) if "9" in args.tables else {}
    earlier = {k: run for path in [*args.reuse, args.out / f"{name}.json"] for k, run in reusable(path, settings).items()}
    runs = retrain_all(settings, {**bests, **damaged}, earlier)
    table = per_arch(runs)
    print_results(orderings, table, bests, damaged, settings)
    payload = {"settings": {**settings, "arch": args.arch, "space": args.space, "tables": args.tables}, "orderings": orderings, "runs": runs,
               "per_arch": table, "arm_bests": list(bests), "damaged": list(damaged)}
    print(f"wrote {write_json(name, payload, args.out)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
