"""`nas retrain RUN:TRIAL [--seeds N] [overrides]`: retrain a stored architecture with several seeds."""

from __future__ import annotations

import argparse

from nas.run_folder import RunFolder, RunTrial


def _ap(value: float | None) -> str:
    from nas.inspect.leaderboard import percent

    return "-" if value is None else percent(value)


def summary_text(outcome: dict) -> str:
    """Per-seed lines, then mean ± std next to the search's own AP (AP in percent)."""
    lines = [f"trial {outcome['trial_id']} retrained on proxy '{outcome['proxy']}':"]
    for result in outcome["results"]:
        lines.append(f"  seed {result['seed']}: AP {_ap(result.get('ap'))} ({result.get('status')})")
    search_ap = _ap(outcome["search_ap"])
    spread = outcome["ap"]
    if spread is None:
        lines.append(f"search AP {search_ap}; no seed finished with an AP")
    else:
        lines.append(
            f"search AP {search_ap} | retrained AP {_ap(spread['mean'])} ± {_ap(spread['std'])} "
            f"(min {_ap(spread['min'])}, max {_ap(spread['max'])}, {spread['n']} seeds)"
        )
    return "\n".join(lines)


def run(args) -> int:
    from nas.retrain import retrain

    outcome = retrain(RunTrial.parse(args.source), seeds=args.seeds, overrides=args.overrides)
    print(summary_text(outcome))
    return 0


def register(verbs) -> None:
    parser = verbs.add_parser(
        "retrain",
        help="retrain a stored architecture with several seeds",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Retrain the spec of a stored trial with seeds proxy.seed+1..proxy.seed+N and print the AP\n"
        "mean and spread next to the search's own number (the best of many noisy trials is optimistic).\n"
        f"Results are stored in the run's {RunFolder.STORE_FILE} (table retrains). Without overrides the run's own\n"
        "proxy tier and data are used; Hydra overrides choose others.\n\n"
        "examples:\n  nas retrain results/runs/NAME:best --seeds 3\n"
        "  nas retrain results/runs/NAME:1a2b3c4d --seeds 5 proxy=coco512 data=coco data.images=... data.annotations=...",
    )
    parser.add_argument("source", metavar="RUN:TRIAL", help="run folder and trial id, or RUN:best")
    parser.add_argument("--seeds", type=int, default=3, help="how many seeds to train (default 3)")
    parser.add_argument("overrides", nargs="*", help="Hydra overrides, e.g. proxy=smoke data=synthetic")
    parser.set_defaults(func=run)
