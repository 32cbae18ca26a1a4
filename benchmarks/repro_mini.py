"""The mini-reproduction (`make repro-mini`): search on the repro tier, then re-check the winners.

Steps, each a real part of the tool:
1. `nas search` with the `repro` proxy tier (PPO controller, 2 trials at once) into
   results/runs/repro-mini (continued with `resume=` if an earlier run was cut short);
2. the top architectures of that search, `r50-sd` (the scale-decreased seed, the paper's baseline
   of the same blocks) and `r50-fpn` are trained again with seeds proxy.seed+1..+N on the
   retraining schedule (`long_epochs`: the repro tier's own 12 epochs, so that the proxy-design
   study's trainings of the references count), two trainings at once; the found architectures'
   runs are stored in the run's `retrains` table as `nas retrain` does;
3. `nas plot` (reward curve, AP vs FLOPs) and `nas draw RUN:best --compare r50-sd` into
   results/repro_mini/.
The claim tested: the found architecture beats the scale-decreased baseline at lower FLOPs.

Usage: python benchmarks/repro_mini.py [--trials N] [--top K] [--seeds N] [--long-epochs E]
                                       [--reuse JSON ...] [--quick] [--out DIR]
`--reuse results/benchmarks/proxy_design.json results/benchmarks/proxy_fidelity.json` takes
baseline trainings with identical settings (architecture, seed, resolved tier, epochs) from those
benchmarks instead of training them again (the study's scored with the tier's own levers:
benchmarks/design_study/tier_rows.py).
Writes results/benchmarks/repro_mini.json (or DIR/repro_mini.json) and the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import RESULTS_DIR, print_table, write_json
from proxy_fidelity import BASELINE, resolved_tier, same_tier, train_in_parallel

from nas.config import load_proxy_and_data
from search_space import get_builtin
from search_space.serialize import spec_to_dict

NAME = "repro_mini"
ROOT = Path(__file__).resolve().parent.parent
SEED_BASELINE = "r50-sd"
FULL = {"tier": ["proxy=repro"], "trials": 16, "concurrency": 2, "top": 2, "seeds": 3, "long_epochs": 12}
QUICK = {
    "tier": ["proxy=smoke", "data.synth_images=32", "data.heldout_images=8", "data.synth_size=64"],
    "trials": 2, "concurrency": 1, "top": 1, "seeds": 2, "long_epochs": 2,
}


def nas(*args: str) -> None:
    """Run one `nas` command of this checkout; its output goes to ours.

    Raises:
        SystemExit: the command failed (its own error line is already on stderr).
    """
    env = dict(os.environ, RAY_AUTH_MODE="disabled")
    proc = subprocess.run([sys.executable, "-m", "nas", *args], check=False, cwd=ROOT, env=env)
    if proc.returncode:
        raise SystemExit(f"repro-mini: 'nas {' '.join(args)}' failed with exit code {proc.returncode}")


def store_of(run_dir: Path) -> str:
    """The path of the run's results store."""
    from nas.run_folder import RunFolder

    return RunFolder(str(run_dir)).store


def stored_trials(run_dir: Path) -> int:
    """How many trials the run's store holds (0 when there is no store)."""
    from nas.store import ResultsStore

    db = store_of(run_dir)
    if not os.path.exists(db):
        return 0
    with ResultsStore.open_readonly(db) as store:
        return store.count_trials()


def search(settings: dict, run_dir: Path, *overrides: str) -> None:
    """Run the search (named after its folder, with extra Hydra overrides), continue a cut-short
    one, or keep a finished one."""
    done = stored_trials(run_dir)
    if done >= settings["trials"]:
        print(f"{run_dir} already holds {done} trials; keeping its search", flush=True)
        return
    if done:
        nas("search", f"resume={run_dir}")
        return
    nas("search", *settings["tier"], f"trials={settings['trials']}", f"concurrency={settings['concurrency']}",
        f"run.dir={run_dir}", f"run.name={run_dir.name}", "seed=0", *overrides)


def winners(run_dir: Path, top: int) -> list[dict]:
    """The top successful trials by reward: trial id, reward, AP and spec."""
    from nas.store import ResultsStore

    with ResultsStore.open_readonly(store_of(run_dir)) as store:
        rows = [r for r in store.leaderboard(limit=None) if r["status"] == "ok"][:top]
    return [{"trial_id": r["trial_id"], "reward": r["reward"], "ap": r["ap"], "spec": r["spec"]} for r in rows]


def contenders(found: list[dict]) -> dict[str, dict | None]:
    """Name -> spec dict of everything retrained: the found architectures, r50-sd, r50-fpn (None)."""
    named = {f"found-{k + 1} ({row['trial_id']})": row["spec"] for k, row in enumerate(found)}
    return {**named, SEED_BASELINE: spec_to_dict(get_builtin(SEED_BASELINE)), BASELINE: None}


def reusable(path: Path | None, settings: dict) -> dict[tuple, dict]:
    """(arch, seed, epochs) -> successful run of an earlier benchmark JSON (fidelity, repro-mini,
    ablations) whose tier resolved to the same configs (a JSON from before a tier file changed,
    or without them recorded, gives none), or of the proxy-design study's trainings made with the
    tier's training configuration."""
    from design_study.tier_rows import tier_runs

    if path is None or not path.exists():
        return {}
    fidelity = json.loads(path.read_text())
    if "trainings" in fidelity:  # the proxy-design study's JSON
        return tier_runs(fidelity, settings["resolved"])
    if not same_tier(fidelity.get("settings", {}).get("resolved"), settings["resolved"]):
        return {}
    return {(r["arch"], r["seed"], r["epochs"]): r for r in fidelity.get("runs", []) if r["status"] == "ok"}


def retrain_all(settings: dict, archs: dict[str, dict | None], reuse: dict[tuple, dict], out: Path | None = None,
                resumed: dict[tuple, dict] | None = None) -> list[dict]:
    """Every contender with every seed on the long schedule; runs of other benchmarks are marked
    `reused`; `resumed` ones (this benchmark's own, from a cut-short run) count as trained here.
    With `out`, each finished training is written to the mini-reproduction's JSON there as it ends
    (`{"settings", "runs"}`), so a rerun trains only what is missing."""
    resumed = resumed or {}
    jobs, runs = [], []
    for name, spec in archs.items():
        for seed in range(1, settings["seeds"] + 1):
            key = (name, seed, settings["long_epochs"])
            earlier = reuse.get(key)
            if key in resumed:
                runs.append(resumed[key])
            elif earlier is not None:
                runs.append({**earlier, "reused": True})
            else:
                jobs.append({"schedule": "long", "arch": name, "spec": spec, "seed": seed,
                             "epochs": settings["long_epochs"], "tier": settings["tier"]})
    total = len(runs) + len(jobs)
    print(f"retraining: {len(jobs)} trainings ({len(runs)} reused)", flush=True)

    def record(row: dict) -> None:
        runs.append(row)
        if out is not None:
            write_json(NAME, {"settings": settings, "runs": [r for r in runs if not r.get("reused")]}, out)
        print(f"[{len(runs)}/{total}] {row['arch']} seed {row['seed']}: AP {row['ap']}", flush=True)

    train_in_parallel(jobs, 2, record)
    return runs


def store_retrains(run_dir: Path, found: list[dict], runs: list[dict], proxy_tier: str) -> None:
    """Record the found architectures' trainings in the run's `retrains` table."""
    from nas.store import ResultsStore

    names = {f"found-{k + 1} ({row['trial_id']})": row["trial_id"] for k, row in enumerate(found)}
    store = ResultsStore(store_of(run_dir))
    try:
        for run in runs:
            if run["arch"] in names and not run.get("reused"):
                store.add_retrain(names[run["arch"]], run["seed"], proxy_tier, run)
    finally:
        store.close()


def per_arch(runs: list[dict]) -> dict[str, dict]:
    """AP list, mean, sd and FLOPs per architecture (a failed training counts as AP 0)."""
    ap: dict[str, list[float]] = {}
    flops: dict[str, int] = {}
    for run in runs:
        ap.setdefault(run["arch"], []).append(run["ap"] if run["status"] == "ok" else 0.0)
        flops[run["arch"]] = run["flops"]
    return {name: {"ap": v, "ap_mean": statistics.fmean(v), "ap_sd": statistics.stdev(v) if len(v) > 1 else 0.0,
                   "flops": flops[name]} for name, v in ap.items()}


def verdict(table: dict[str, dict], winner: str, baseline: str) -> dict:
    """Winner minus baseline: AP difference, its standard error, FLOPs ratio, and the claim's status."""
    a, b = table[winner], table[baseline]
    diff = a["ap_mean"] - b["ap_mean"]
    se = (a["ap_sd"] ** 2 / len(a["ap"]) + b["ap_sd"] ** 2 / len(b["ap"])) ** 0.5
    flops_ratio = a["flops"] / b["flops"]
    if diff > 2 * se and flops_ratio < 1:
        status = "holds"  # better by more than two standard errors, at lower FLOPs
    elif diff > 0 and flops_ratio < 1:
        status = "not separated from noise"
    else:
        status = "does not hold"
    return {"winner": winner, "baseline": baseline, "ap_diff": diff, "ap_diff_se": se,
            "flops_ratio": flops_ratio, "claim": status}


def figures(run_dir: Path, folder: Path) -> None:
    """Reward curve and AP-vs-FLOPs of the search; the winner drawn beside r50-sd."""
    nas("plot", str(run_dir), "-o", str(folder))
    nas("draw", f"{run_dir}:best", "--compare", SEED_BASELINE, "-o", str(folder / "winner_vs_r50-sd.svg"))


def search_summary(run_dir: Path) -> dict:
    from nas.inspect.runs import load_run

    snapshot = load_run(str(run_dir))
    rewards = [t["reward"] for t in snapshot.trials]
    return {"trials": len(rewards), "best_reward": max((r for r in rewards if r is not None), default=None),
            "rewards": rewards, "wall_seconds": snapshot.wall_seconds()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smoke tier, 2 trials, 2 seeds (tests)")
    for key in ("trials", "top", "seeds", "long-epochs"):
        parser.add_argument(f"--{key}", type=int, help=f"default {FULL[key.replace('-', '_')]}")
    parser.add_argument("--reuse", type=Path, nargs="*", default=[], help="benchmark JSON files whose runs may be reused")
    parser.add_argument("--out", type=Path, default=RESULTS_DIR, help="folder of the JSON")
    parser.add_argument("--run-dir", type=Path, default=ROOT / "results" / "runs" / "repro-mini")
    parser.add_argument("--figures", type=Path, default=ROOT / "results" / "repro_mini")
    args = parser.parse_args(argv)
    settings = dict(QUICK if args.quick else FULL)
    for key in ("trials", "top", "seeds", "long_epochs"):
        if getattr(args, key) is not None:
            settings[key] = getattr(args, key)
    settings["resolved"] = resolved_tier(settings["tier"])
    run_dir = args.run_dir.resolve()
    search(settings, run_dir)
    found = winners(run_dir, settings["top"])
    archs = contenders(found)
    proxy, _ = load_proxy_and_data(settings["tier"])
    earlier = {k: run for path in args.reuse for k, run in reusable(path, settings).items()}
    resumed = reusable(args.out / f"{NAME}.json", settings)  # own trainings of an earlier, cut-short run
    runs = retrain_all(settings, archs, earlier, args.out, resumed)
    store_retrains(run_dir, found, runs, proxy.tier)
    table = per_arch(runs)
    winner = max((n for n in archs if n.startswith("found-")), key=lambda n: table[n]["ap_mean"])
    checks = [verdict(table, winner, SEED_BASELINE), verdict(table, winner, BASELINE)]
    figures(run_dir, args.figures)
    rows = [[n, f"{t['ap_mean']:.4f} ± {t['ap_sd']:.4f}", f"{t['flops'] / 1e9:.3f}"] for n, t in table.items()]
    print_table(["architecture", f"AP ({settings['long_epochs']} epochs, {settings['seeds']} seeds)", "GFLOPs"], rows)
    for check in checks:
        print(f"{check['winner']} vs {check['baseline']}: AP {check['ap_diff']:+.4f} ± {check['ap_diff_se']:.4f} "
              f"(se), FLOPs x{check['flops_ratio']:.3f} -> claim {check['claim']}")
    payload = {"settings": settings, "search": search_summary(run_dir), "found": found, "runs": runs,
               "per_arch": table, "verdicts": checks}
    print(f"wrote {write_json(NAME, payload, args.out)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
