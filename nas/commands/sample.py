"""`nas sample [--space SEED] [--n K] [--seed S]`: print K seeded random specs of a search space
as JSON lines (the spec JSON form plus its `decisions`); sample k depends only on (S, k)."""

from __future__ import annotations

import argparse
import json

from nas.commands.space import add_space_verb, space_from_args
from search_space.serialize import spec_to_dict

MAX_SAMPLES = 100_000  # a guard against typos; a search samples far fewer


def positive_count(text: str) -> int:
    """argparse type: an integer in [1, MAX_SAMPLES]."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if not 1 <= value <= MAX_SAMPLES:
        raise argparse.ArgumentTypeError(f"{value} is outside [1, {MAX_SAMPLES}]")
    return value


def sample_lines(space, seed: int, n: int):
    """The JSON line of each of the first n seeded samples."""
    for k in range(n):
        decisions = space.sample(seed, k)
        spec = space.decode(decisions, name=f"{space.options.name}-s{seed}-{k}")
        yield json.dumps({**spec_to_dict(spec), "decisions": list(decisions)})


def run(args) -> int:
    space = space_from_args(args)
    for line in sample_lines(space, args.seed, args.n):
        print(line)
    return 0


def register(verbs) -> None:
    parser = add_space_verb(
        verbs,
        "sample",
        "print seeded random specs of a search space as JSON lines",
        "Print K valid specs drawn uniformly step by step from the search space, one\n"
        "JSON object per line (the spec file format plus 'decisions'). Sample k depends only\n"
        "on (seed, k), so the same command prints the same lines.\n\n"
        "example: nas sample --space resnet50 --n 3 --seed 0 > samples.jsonl",
    )
    parser.add_argument("--n", type=positive_count, default=1, help="number of specs (default 1)")
    parser.add_argument("--seed", type=int, default=0, help="sampler seed (default 0)")
    parser.set_defaults(func=run)
