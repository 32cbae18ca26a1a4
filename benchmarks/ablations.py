"""The paper's ablations on the cpu proxy (`make ablations`): Tables 8 and 9 (facts §7).

Table 8 — is a learned scale permutation better than a hand-made shape? `nas search` in spaces
whose ordering is fixed to `hourglass` or `fish` (connections, level adjustments and block types
still searched), with the same tier, trial budget, controller and seed as the learned arm, which
is the repro-mini search (results/runs/repro-mini; run here if it is missing). Reported per arm:
best reward, mean of the top 3, mean over successful trials.

Table 9 — do cross-scale connections matter? An architecture (default r0-sp53, as the paper;
any SOURCE such as `results/runs/repro-mini:best`) and its three damaged forms
(`search_space/ablations.py`: no-short-range, no-long-range, sequential) trained on the long
schedule with several seeds, two at once; AP mean ± sd, params and FLOPs.

Usage: python benchmarks/ablations.py [--arch SOURCE] [--trials N] [--seeds N] [--long-epochs E]
                                      [--reuse FIDELITY_JSON] [--quick] [--out DIR] [--runs DIR]
`--reuse results/benchmarks/proxy_fidelity.json` takes the intact architecture's runs with the
same settings from the fidelity benchmark. Writes results/benchmarks/ablations.json.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import RESULTS_DIR, print_table, write_json
from repro_mini import FULL, QUICK, ROOT, per_arch, retrain_all, reusable, search

from search_space.ablations import DAMAGES
from search_space.orderings import FISH, HOURGLASS, SEARCHED
from search_space.serialize import spec_to_dict

NAME = "ablations"
LEARNED_RUN = "repro-mini"


def ordering_runs(settings: dict, runs_root: Path) -> dict[str, Path]:
    """Run (or keep) one search per ordering; ordering -> run folder."""
    folders = {SEARCHED: runs_root / LEARNED_RUN}
    search(settings, folders[SEARCHED])
    for ordering in (HOURGLASS, FISH):
        folders[ordering] = runs_root / f"ablation-{ordering}"
        search(settings, folders[ordering], f"+space.overrides.ordering={ordering}")
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


def damaged_archs(source: str) -> dict[str, dict]:
    """Name -> spec dict of the architecture and its three damaged forms."""
    from nas.sources import resolve_source

    specs = [resolve_source(source).spec, *(resolve_source(f"{source}~{d}").spec for d in DAMAGES)]
    return {spec.name: spec_to_dict(spec) for spec in specs}


def print_results(orderings: dict[str, dict], damage: dict[str, dict], settings: dict) -> None:
    print(f"\nTable 8: orderings, {settings['trials']} trials each (cpu-tier reward = AP)")
    print_table(["ordering", "best", "top-3 mean", "mean"],
                [[o, f"{s['best']:.4f}", f"{s['top3_mean']:.4f}", f"{s['mean']:.4f}"] for o, s in orderings.items()])
    print(f"\nTable 9: connections ({settings['long_epochs']} epochs, {settings['seeds']} seeds)")
    print_table(["architecture", "AP", "GFLOPs"],
                [[n, f"{t['ap_mean']:.4f} ± {t['ap_sd']:.4f}", f"{t['flops'] / 1e9:.3f}"] for n, t in damage.items()])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smoke tier, 2 trials, 2 seeds (tests)")
    parser.add_argument("--arch", default="r0-sp53", help="SOURCE whose connections are damaged (default r0-sp53)")
    for key in ("trials", "seeds", "long-epochs"):
        parser.add_argument(f"--{key}", type=int, help=f"default {FULL[key.replace('-', '_')]}")
    parser.add_argument("--reuse", type=Path, help="a proxy_fidelity.json whose intact runs may be reused")
    parser.add_argument("--out", type=Path, default=RESULTS_DIR, help="folder of the JSON")
    parser.add_argument("--runs", type=Path, default=ROOT / "results" / "runs", help="folder of the search runs")
    args = parser.parse_args(argv)
    settings = dict(QUICK if args.quick else FULL)
    for key in ("trials", "seeds", "long_epochs"):
        if getattr(args, key) is not None:
            settings[key] = getattr(args, key)
    folders = ordering_runs(settings, args.runs.resolve())
    orderings = {o: ordering_summary(search_rewards(f, settings["trials"])) for o, f in folders.items()}
    runs = retrain_all(settings, damaged_archs(args.arch), reusable(args.reuse, settings))
    damage = per_arch(runs)
    print_results(orderings, damage, settings)
    payload = {"settings": {**settings, "arch": args.arch}, "orderings": orderings, "damage_runs": runs,
               "damage": damage}
    print(f"wrote {write_json(NAME, payload, args.out)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
