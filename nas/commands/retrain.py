"""`nas retrain RUN:TRIAL [--seeds N] [overrides]`: retrain a stored architecture with several seeds
and print the spread of the run's reward metric, labelled by its task ("AP", "top-1")."""

from __future__ import annotations

import argparse

from nas.run_folder import RunFolder, RunTrial


def _percent(value: float | None) -> str:
    from nas.inspect.leaderboard import percent

    return "-" if value is None else percent(value)


def summary_text(outcome: dict) -> str:
    """Per-seed lines, then mean ± std next to the search's own value of the reward metric (in
    percent; `outcome` from `nas.retrain.retrain`)."""
    metric, label = outcome["reward_metric"], outcome["reward_label"]
    lines = [f"trial {outcome['trial_id']} retrained on proxy '{outcome['proxy']}':"]
    for result in outcome["results"]:
        lines.append(f"  seed {result['seed']}: {label} {_percent(result.get(metric))} ({result.get('status')})")
    search = _percent(outcome[f"search_{metric}"])
    spread = outcome[metric]
    if spread is None:
        article = "an" if label[:1].lower() in "aeiou" else "a"  # "an AP", "a top-1"
        lines.append(f"search {label} {search}; no seed finished with {article} {label}")
    else:
        lines.append(
            f"search {label} {search} | retrained {label} {_percent(spread['mean'])} ± {_percent(spread['std'])} "
            f"(min {_percent(spread['min'])}, max {_percent(spread['max'])}, {spread['n']} seeds)"
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
        description="Retrain the spec of a stored trial with seeds proxy.seed+1..proxy.seed+N and print the mean\n"
        "and spread of the run's reward metric (AP, top-1, ...) next to the search's own number (the best of\n"
        "many noisy trials is optimistic). The run's own task is used. Results are stored in the run's\n"
        f"{RunFolder.STORE_FILE} (table retrains). Without overrides the run's own proxy tier and data are used;\n"
        "Hydra overrides choose others.\n\n"
        "examples:\n  nas retrain results/runs/NAME:best --seeds 3\n"
        "  nas retrain results/runs/NAME:1a2b3c4d --seeds 5 proxy=coco512 data=coco data.images=... data.annotations=...",
    )
    parser.add_argument("source", metavar="RUN:TRIAL", help="run folder and trial id, or RUN:best")
    parser.add_argument("--seeds", type=int, default=3, help="how many seeds to train (default 3)")
    parser.add_argument("overrides", nargs="*", help="Hydra overrides, e.g. proxy=smoke data=synthetic")
    parser.set_defaults(func=run)
