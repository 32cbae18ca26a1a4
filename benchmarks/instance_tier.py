"""Instance tier: its measured cost, and how well its mask AP separates the paper's backbones.

Trains r50-sd, r0-sp53 and spinenet-49 (the scale-decreased baseline, the paper's R0-SP53 and the
discovered SpineNet-49) with 3 seeds each on the `instance` tier (`task=instance`: torchvision
Mask R-CNN at the paper's proxy widths, the bundled synthetic set at 128 px with each object's
visible mask, mask AP on 64 held-out images), two trainings at once on one thread each, as a
search runs them. Reports per architecture mask AP and box AP mean +- standard error, params,
multiply-adds and seconds per trial, the between/within spread ratio and the seed-to-seed rank
agreement of mask AP (the proxy-fidelity benchmark's own functions), and the z-scores of the
paper's order r50-sd < r0-sp53, r50-sd < spinenet-49. The trainings are those of the
classification tier's benchmark (`classification_tier.train_one`), with the instance task's
overrides. Resumable: every finished training is written to the JSON as it ends (with its
provenance), and a rerun with the same settings trains only what is missing.

Usage: python benchmarks/instance_tier.py [--seeds N] [--jobs J] [--quick] [--out DIR]
Writes results/benchmarks/instance_tier.json (or DIR/instance_tier.json).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from classification_tier import ARCHS, mean_se, run_tier_benchmark, tier_arguments, z_score
from common import print_table
from proxy_fidelity import seed_agreement, spread_decomposition

NAME = "instance_tier"
REWARD, BOX = "mask_ap", "ap"
FULL = {"overrides": ["task=instance"], "seeds": 3}
QUICK = {"overrides": ["task=instance", "proxy=smoke", "proxy.epochs=1", "data.synth_images=24",
                       "data.heldout_images=8", "data.synth_size=64"], "seeds": 2}
ORDER = (("r50-sd", "r0-sp53"), ("r50-sd", "spinenet-49"), ("r0-sp53", "spinenet-49"))


def _metric(runs: list[dict], arch: str, name: str) -> list[float]:
    return [(r[name] or 0.0) if r["status"] == "ok" else 0.0 for r in runs if r["arch"] == arch]


def summarize(runs: list[dict]) -> dict:
    """Per-architecture mask AP, box AP and cost, spread decomposition, seed agreement, the paper's order."""
    masks = {a: v for a in ARCHS if (v := _metric(runs, a, REWARD))}
    per_arch = {}
    for arch, values in masks.items():
        rows = [r for r in runs if r["arch"] == arch]
        per_arch[arch] = {REWARD: mean_se(values), BOX: mean_se(_metric(runs, arch, BOX)),
                          "params": rows[0]["params"], "flops": rows[0]["flops"],
                          "trial_seconds": mean_se([r["trial_seconds"] for r in rows])}
    complete = len(masks) == len(ARCHS) and len({len(v) for v in masks.values()}) == 1 and len(masks[ARCHS[0]]) > 1
    summary = {"per_arch": per_arch}
    if complete:
        summary["spread"] = spread_decomposition(masks)
        summary["seed_agreement"] = seed_agreement(masks)
        summary["z"] = {f"{high} - {low}": z_score(per_arch[low][REWARD], per_arch[high][REWARD]) for low, high in ORDER}
    return summary


def _mean_text(part: dict) -> str:
    se = "-" if part["se"] is None else f"{part['se']:.3f}"
    return f"{part['mean']:.3f} +- {se}"


def print_summary(summary: dict) -> None:
    rows = [[arch, _mean_text(part[REWARD]), _mean_text(part[BOX]), f"{part['params'] / 1e6:.3f}",
             f"{part['flops'] / 1e9:.3f}", f"{part['trial_seconds']['mean']:.0f}"]
            for arch, part in summary["per_arch"].items()]
    print_table(["architecture", "mask AP", "box AP", "params(M)", "GMACs", "s/trial"], rows)
    if "spread" in summary:
        spread, agree = summary["spread"], summary["seed_agreement"]
        ratio = "n/a" if spread["ratio"] is None else f"{spread['ratio']:.2f}"
        tau = "n/a" if agree["kendall_tau"] is None else f"{agree['kendall_tau']:.2f}"
        print(f"between/within {ratio} | seed-to-seed Kendall tau {tau}")
        print("z: " + ", ".join(f"{k} {'n/a' if v is None else f'{v:+.1f}'}" for k, v in summary["z"].items()))


def row_text(row: dict) -> str:
    return f"{row['arch']} seed {row['seed']}: mask AP {row[REWARD]:.3f} box AP {row[BOX]:.3f}"


def main(argv: list[str] | None = None) -> int:
    args = tier_arguments(__doc__.split("\n\n")[0], argv)
    settings = dict(QUICK if args.quick else FULL)
    if args.seeds is not None:
        settings["seeds"] = args.seeds
    run_tier_benchmark(NAME, settings, args.out, args.jobs, sys.modules[__name__], masks=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
