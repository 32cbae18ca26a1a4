"""`nas search [overrides]`: run (or resume) a search on Ray Tune, configured with Hydra overrides."""

from __future__ import annotations

import argparse
import sys

from nas.config import GROUPS, group_options
from nas.run_folder import RunFolder

TOP_LEVEL = "trials=16 concurrency=2 seed=0 checkpoint_every=4 run.name=NAME run.dir=DIR resume=RUN_DIR"


def help_text() -> str:
    """The description: groups with their options, top-level keys, examples."""
    groups = "\n".join(f"  {g + '=':<12} {' | '.join(group_options(g))}" for g in GROUPS)
    return (
        "Search scale-permuted backbones: a controller proposes specs, Ray Tune trains a proxy RetinaNet\n"
        "per proposal (task=classification: the paper's classifier), AP (top-1) on the held-out split is the\n"
        f"reward. Every trial lands in <run.dir>/{RunFolder.STORE_FILE}.\n\n"
        "config groups (choose one option each; defaults: ppo, cpu, synthetic, resnet50, local, fifo, detection):\n"
        f"{groups}\n\n"
        f"top-level keys: {TOP_LEVEL}\n"
        "any key of a group can be set too: cluster.gpus_per_trial=0.5 proxy.epochs=3 +controller.options.KEY=VALUE\n"
        "reward: reward.failed_penalty=0 reward.target_flops=... reward.flops_weight=-0.07 reward.hard=true\n"
        "replay: proxy=replay replay.from=RUN_DIR (recorded rewards; unrecorded proposals: nearest neighbour)\n"
        "stopping: Ctrl+C or SIGTERM stops the running trials cleanly and exits with status 130 (interrupted);\n"
        "  a second signal stops at once. Resume retrains only what was not stored. Bad input: exit status 2.\n\n"
        "examples:\n"
        "  nas search                                     # laptop: cpu tier, PPO, 16 trials, 2 at a time\n"
        "  nas search controller=evolution trials=64 run.name=evo64\n"
        "  nas search task=classification                 # the classifier, its own tier and data, top-1 reward\n"
        "  nas search resume=results/runs/evo64           # continue a killed or stopped run\n"
        "  nas search cluster=ray cluster.address=auto cluster.storage=s3://bucket/nas cluster.gpus_per_trial=1 \\\n"
        "      proxy=coco512 data=coco data.images=/coco/train2017 data.annotations=/coco/instances_train2017.json"
    )


def run(args) -> int:
    from nas.config import load_search_config
    from nas.interrupt import EXIT_INTERRUPTED, SearchInterrupted
    from nas.search import run_search

    cfg, resuming = load_search_config(args.overrides)
    try:
        run_search(cfg, resuming)
    except SearchInterrupted as stop:
        sys.stderr.write(f"nas search: interrupted by {stop.name}; {next_step(cfg)}\n")
        return EXIT_INTERRUPTED
    return 0


def next_step(cfg) -> str:
    """What to run after an interruption: resume once the run recorded its config, else start again."""
    from nas.config import stored_config
    from search_space.errors import UserInputError

    try:
        stored_config(cfg.run_dir)
    except UserInputError:
        return "nothing was recorded yet; start the search again with the same overrides"
    return f"continue with: nas search resume={cfg.run_dir}"


def register(verbs) -> None:
    parser = verbs.add_parser(
        "search",
        help="run or resume an architecture search (Hydra overrides)",
        description=help_text(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("overrides", nargs="*", metavar="KEY=VALUE", help="Hydra overrides (see above)")
    parser.set_defaults(func=run)
