"""Reading the proxy-design study: per setting and reference the final metrics under each
evaluation lever, the gaps that decide the paper's order, the learning curves, the figure, and
the progress line printed as trainings end."""

from __future__ import annotations

import statistics
import time
from itertools import pairwise
from pathlib import Path

from design_study.plan import BASELINE, RANK_FACTOR, REFERENCES
from design_study.train import lever_name

METRICS = ("ap", "ap50", "aps", "apm", "apl")
FIGURE_NAME = "proxy_design_curves.png"  # written beside the JSON


def tier_lever(row: dict) -> str:
    """The lever the setting's own tier reports (raw BN, its threshold and area ranges)."""
    proxy = row["provenance"]["proxy"]
    return lever_name("raw", proxy["score_threshold"], proxy["area_ranges"])


def precise_lever(row: dict, batches: int = 60) -> str:
    """The same evaluation after precise BN on `batches` batches."""
    return tier_lever(row).replace("raw/", f"precise{batches}/", 1)


def _mean_se(values: list[float]) -> dict:
    se = statistics.stdev(values) / len(values) ** 0.5 if len(values) > 1 else None
    return {"mean": statistics.fmean(values), "se": se, "n": len(values)}


def setting_summary(rows: list[dict]) -> dict:
    """Per reference and lever: mean (± standard error over seeds) of each metric; cost; gaps."""
    levers = sorted({k for r in rows for k, v in r["final"].items() if isinstance(v, dict)})
    per_arch: dict[str, dict] = {}
    for arch in sorted({r["arch"] for r in rows}):
        mine = [r for r in rows if r["arch"] == arch]
        per_arch[arch] = {
            "seeds": sorted(r["seed"] for r in mine),
            "wall_seconds": _mean_se([r["wall_seconds"] for r in mine]),
            "train_seconds": _mean_se([r["train_seconds"] for r in mine]),
            "flops": mine[0]["flops"],
            "train_seconds_per_epoch": statistics.fmean(r["train_seconds"] / r["epochs"] for r in mine),
            "precise_bn_seconds": {k.split("/")[0]: statistics.fmean(r["final"][k] for r in mine)
                                   for k in mine[0]["final"] if k.endswith("/seconds")},
            "levers": {lever: {m: _mean_se([r["final"][lever][m] or 0.0 for r in mine]) for m in METRICS}
                       for lever in levers},
        }
    return {"per_arch": per_arch, "gaps": gaps(per_arch, levers), "area_ranges": rows[0].get("area_ranges", {})}


def gaps(per_arch: dict, levers: list[str]) -> dict:
    """Per lever: AP of each reference minus r50-fpn's, and whether the paper's order holds."""
    if BASELINE not in per_arch:
        return {}
    result = {}
    for lever in levers:
        ap = {a: per_arch[a]["levers"][lever]["ap"]["mean"] for a in per_arch}
        order = [a for a in ("r50-sd", "r50-fpn", "r0-sp53") if a in ap]
        result[lever] = {"minus_r50_fpn": {a: round(v - ap[BASELINE], 4) for a, v in ap.items() if a != BASELINE},
                         "paper_order_r50sd_fpn_sp53": all(ap[x] < ap[y] for x, y in pairwise(order))}
    return result


def curves(rows: list[dict]) -> dict:
    """Per reference: (images seen, AP raw, AP after precise BN) along its one long run (the row
    with the most curve points: later stages evaluate their last epoch only)."""
    out = {}
    for row in sorted(rows, key=lambda r: len(r["curve"])):
        raw, precise = tier_lever(row), precise_lever(row)
        out[row["arch"]] = [(p["images_seen"], p["levers"][raw]["ap"], p["levers"].get(precise, {}).get("ap"))
                            for p in row["curve"]]
    return out


def group_of(row: dict) -> str:
    """Summary group of a stored training: the screen's seed 0 and the choosing seeds pool."""
    return "screen" if row["stage"] in ("screen", "choose") else row["stage"]


def spread(per_arch_rows: dict[str, list[dict]], lever: str) -> dict | None:
    """Between/within spread of AP under one lever (architectures with at least two seeds)."""
    from proxy_fidelity import spread_decomposition

    ap = {a: [r["final"][lever]["ap"] or 0.0 for r in rows] for a, rows in per_arch_rows.items() if len(rows) > 1}
    return spread_decomposition(ap) if len(ap) > 1 else None


def paper_order(per_arch: dict, lever: str) -> dict:
    """Target (a): r50-sd < r50-fpn < r0-sp53, each beyond 2 combined standard errors, and
    spinenet-49 not below r50-fpn by more than 2 (stretch: above it by more than 2)."""

    def beyond(low: str, high: str) -> float | None:  # (high - low) in combined standard errors
        a, b = (per_arch.get(x, {}).get("levers", {}).get(lever, {}).get("ap") for x in (low, high))
        if not a or not b or a["se"] is None or b["se"] is None:
            return None
        combined = (a["se"] ** 2 + b["se"] ** 2) ** 0.5
        return (b["mean"] - a["mean"]) / combined if combined else None

    z = {"fpn_over_sd": beyond("r50-sd", BASELINE), "sp53_over_fpn": beyond(BASELINE, "r0-sp53"),
         "sn49_over_fpn": beyond(BASELINE, "spinenet-49")}
    known = all(v is not None for v in z.values())
    return {"z": z, "holds": known and z["fpn_over_sd"] > 2 and z["sp53_over_fpn"] > 2 and z["sn49_over_fpn"] > -2,
            "stretch": known and z["sn49_over_fpn"] > 2}


def rank_agreement(short: dict, long: dict, lever: str, resamples: int = 2000, seed: int = 0) -> dict:
    """Kendall tau (tau-b) and Spearman rho of mean AP between two schedules, with 95% bootstrap
    intervals over the architectures (seeded resampling with replacement)."""
    from proxy_fidelity import bootstrap_rank_agreement

    names = sorted(set(short["per_arch"]) & set(long["per_arch"]))
    xs = [short["per_arch"][n]["levers"][lever]["ap"]["mean"] for n in names]
    ys = [long["per_arch"][n]["levers"][lever]["ap"]["mean"] for n in names]
    agreement = bootstrap_rank_agreement(xs, ys, resamples, seed)
    return {"architectures": agreement.pop("n"), **agreement}


def summarize(trainings: list[dict]) -> dict:
    """Every group and setting with stored trainings; for rank settings, their agreement."""
    by: dict[tuple, list[dict]] = {}
    for row in (t for t in trainings if t["status"] == "ok"):
        by.setdefault((group_of(row), row["setting"]), []).append(row)
    summary = {}
    for (group, setting), rows in sorted(by.items()):
        part = {**setting_summary(rows), "curves": curves(rows)}
        per_arch_rows = {a: [r for r in rows if r["arch"] == a] for a in part["per_arch"]}
        for lever in (tier_lever(rows[0]), precise_lever(rows[0])):
            part.setdefault("spread", {})[lever] = spread(per_arch_rows, lever)
            part.setdefault("paper_order", {})[lever] = paper_order(part["per_arch"], lever)
        summary[f"{group}/{setting}"] = part
    for name in [k for k in summary if k.startswith("rank/") and k.endswith("-x1")]:
        long = f"{name[:-3]}-x{RANK_FACTOR}"
        if long in summary:
            lever = precise_lever(by[("rank", name.split("/", 1)[1])][0])
            summary[name]["agreement_with_longer"] = rank_agreement(summary[name], summary[long], lever)
    return summary


def print_summary(summary: dict) -> None:
    for name, part in summary.items():
        print(f"\n{name}  ({'; '.join(part['area_ranges'].values())})")
        for arch, info in sorted(part["per_arch"].items(), key=lambda kv: REFERENCES.index(kv[0])
                                 if kv[0] in REFERENCES else 99):
            cells = []
            for lever in ("raw/0.02/absolute", "raw/0.02/relative", "precise60/0.02/absolute", "precise60/0.02/relative"):
                if lever in info["levers"]:
                    m = info["levers"][lever]
                    cells.append(f"{lever}: AP {m['ap']['mean']:.3f} s/m/l {m['aps']['mean']:.3f}/"
                                 f"{m['apm']['mean']:.3f}/{m['apl']['mean']:.3f}")
            print(f"  {arch:12s} {info['wall_seconds']['mean']:7.0f} s  " + " | ".join(cells))


def markdown_table(summary: dict) -> str:
    """One row per group/setting and reference: AP raw and after precise BN (60 batches), AP50,
    APs/APm/APl (precise BN), seeds, training and wall seconds (results/README.md)."""
    lines = ["| setting | reference | AP | AP precise BN | AP50 | APs / APm / APl | seeds | train s | wall s |",
             "|---|---|---|---|---|---|---|---|---|"]
    for name, part in summary.items():
        for arch in sorted(part["per_arch"], key=lambda a: REFERENCES.index(a) if a in REFERENCES else 99):
            info = part["per_arch"][arch]
            raw, precise = (info["levers"][lv] for lv in _lever_pair(part))
            cells = [name, arch, _mean(raw["ap"]), _mean(precise["ap"]), _mean(precise["ap50"]),
                     " / ".join(f"{precise[m]['mean']:.3f}" for m in ("aps", "apm", "apl")),
                     len(info["seeds"]), f"{info['train_seconds']['mean']:.0f}", f"{info['wall_seconds']['mean']:.0f}"]
            lines.append("| " + " | ".join(str(c) for c in cells) + " |")
    return "\n".join(lines)


def _lever_pair(part: dict) -> tuple[str, str]:
    tier = next(iter(part["paper_order"]))
    return tier, tier.replace("raw/", "precise60/", 1)


def _mean(value: dict) -> str:
    return f"{value['mean']:.3f}" + (f" ± {value['se']:.3f}" if value["se"] is not None else "")


def plot(summary: dict, path: Path) -> Path | None:
    """Each reference's AP (precise BN) against images seen, one column per screen setting, and
    below it the spinenet-49 - r50-fpn gap."""
    parts = {k: v for k, v in summary.items() if k.startswith("screen/") and v["curves"]}
    if not parts:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, len(parts), figsize=(3.2 * len(parts), 5.6), squeeze=False, sharex="col")
    for col, (name, part) in enumerate(parts.items()):
        top, bottom = axes[0][col], axes[1][col]
        for arch, points in sorted(part["curves"].items()):
            top.plot([p[0] for p in points], [p[2] if p[2] is not None else p[1] for p in points], marker=".", label=arch)
        top.set_title(name.split("/", 1)[1], fontsize=9)
        sn, fpn = part["curves"].get("spinenet-49"), part["curves"].get(BASELINE)
        if sn and fpn:
            pairs = [(a[0], a[2] - b[2]) for a, b in zip(sn, fpn) if a[2] is not None and b[2] is not None]
            bottom.plot([p[0] for p in pairs], [p[1] for p in pairs], marker=".", color="black")
        bottom.axhline(0.0, color="grey", linewidth=0.8)
        bottom.set_xlabel("images seen")
    axes[0][0].set_ylabel("AP (precise BN)")
    axes[1][0].set_ylabel("spinenet-49 - r50-fpn AP")
    axes[0][0].legend(fontsize=7)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110, metadata={"Software": None})
    plt.close(fig)
    return path


class Progress:
    """'[done/total] name: AP x (precise y) | best so far | ETA' as trainings end."""

    def __init__(self, total: int) -> None:
        self.total, self.done, self.started, self.best = total, 0, time.monotonic(), None

    def line(self, row: dict) -> str:
        self.done += 1
        elapsed = time.monotonic() - self.started
        eta = elapsed / self.done * (self.total - self.done)
        if row["status"] != "ok":
            return f"[{self.done}/{self.total}] {row['key']}: {row['status']} ({row['error']}) | ETA {eta / 60:.0f} min"
        ap, precise = row["final"][tier_lever(row)]["ap"], row["final"][precise_lever(row)]["ap"]
        if self.best is None or precise > self.best[0]:
            self.best = (precise, row["key"])
        return (f"[{self.done}/{self.total}] {row['key']}: AP {ap:.3f} (precise BN {precise:.3f}) in "
                f"{row['wall_seconds']:.0f} s | best {self.best[0]:.3f} {self.best[1]} | ETA {eta / 60:.0f} min")
