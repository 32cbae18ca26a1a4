"""`nas data synth` writes the bundled synthetic data set anywhere; `nas data check` validates the
data a training or search would use (same overrides as `nas train`) and prints its counts and the
state of its input cache; `nas data cache` builds that cache ahead of the first training."""

from __future__ import annotations

import argparse
import json
import os

from search_space.errors import UserInputError


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"'{text}' is not a positive integer")
    return value


def run_synth(args) -> int:
    from proxy_trainer.data.synth import generate_synthetic

    if os.path.exists(args.out) and not os.path.isdir(args.out):
        raise UserInputError(f"--out {args.out} is a file; give a folder")
    try:
        path = generate_synthetic(args.out, images=args.images, size=args.size, seed=args.seed)
    except OSError as err:
        raise UserInputError(f"cannot write {args.out} ({err.strerror}); choose a writable folder") from None
    with open(path, encoding="utf-8") as handle:
        objects = len(json.load(handle)["annotations"])
    print(f"wrote {args.images} images ({objects} objects, {args.size} px, seed {args.seed}) to {path}")
    return 0


def run_check(args) -> int:
    from proxy_trainer.data.input_cache import cache_state

    proxy, data, prepared = _checked_data(args.overrides)
    print(json.dumps({**prepared.summary(), "input_cache": cache_state(prepared, proxy.image_size, data)}))
    return 0


def _checked_data(overrides: list[str]):
    """(ProxyConfig, DataConfig, PreparedData) the overrides select, validated for their task."""
    from nas.config import TRAIN_FILE, compose_config, proxy_and_data, task_config
    from proxy_trainer.data.prepare import prepare_data
    from proxy_trainer.tasks import task_runner

    plain = compose_config(overrides, TRAIN_FILE)
    proxy, data = proxy_and_data(plain)
    runner = task_runner(task_config(plain).name)
    prepared = prepare_data(data, masks=runner.needs_masks)  # instance: every object's mask checked
    runner.check_data(prepared)  # e.g. classification: every image labelled
    return proxy, data, prepared


def run_cache(args) -> int:
    from proxy_trainer.data.input_cache import ensure_input_cache

    proxy, data, prepared = _checked_data(args.overrides)
    for name, split in (("training", prepared.train), ("reward", prepared.val)):
        cache = ensure_input_cache(split.images, proxy.image_size, data.input_cache_dir)
        print(f"input cache of the {name} split: {cache.folder} ({len(cache)} images, "
              f"{cache.disk_bytes() / 1e6:.1f} MB)")
    if not data.uses_input_cache:
        print(f"note: data.input_cache={str(data.input_cache).lower()} with data={data.kind}: trainings decode the "
              "files; add data.input_cache=true to read this cache")
    return 0


def register(verbs) -> None:
    parser = verbs.add_parser("data", help="generate synthetic data or check a data set",
                              description="Data sets for the proxy task.")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", parser_class=type(parser))
    actions.required = True
    synth = actions.add_parser(
        "synth", help="write the synthetic multi-scale data set (PNG + COCO JSON)",
        description="Write the bundled synthetic detection data set in COCO format: DIR/images/*.png and "
        "DIR/annotations.json. The same seed gives identical files. (data=synthetic generates its own "
        "copy in the cache; this verb is for looking at it or using it elsewhere.)\n\n"
        "example: nas data synth --out /tmp/shapes --images 300 --size 128 --seed 0",
    )
    synth.add_argument("--out", required=True, metavar="DIR", help="destination folder")
    synth.add_argument("--images", type=_positive, default=300, metavar="N", help="number of images (300)")
    synth.add_argument("--size", type=_positive, default=128, metavar="S", help="image side in pixels (128)")
    synth.add_argument("--seed", type=int, default=0, metavar="K", help="generator seed (0)")
    synth.set_defaults(func=run_synth)
    check = actions.add_parser(
        "check", help="validate the data a training would use and print its counts",
        description="Load and validate the data set selected by the overrides (as nas train), carve the "
        "held-out split and print one JSON line of counts; bad data gives one error line and exit 2.\n\n"
        "examples: nas data check data=coco data.images=DIR data.annotations=FILE;  "
        "nas data check task=classification (every image needs an object: its label);  "
        "nas data check task=instance (every object needs a valid segmentation: polygons or RLE)",
    )
    check.add_argument("overrides", nargs="*", metavar="OVERRIDE", help="Hydra overrides (data=..., data.*=...)")
    check.set_defaults(func=run_check)
    cache = actions.add_parser(
        "cache", help="build the input cache: the images letterboxed once to the tier's input size",
        description="Decode and letterbox every image of the selected data set (both splits) to the proxy "
        "tier's input size into a memory-mapped file that all trials read (proxy_trainer/data/input_cache.py). "
        "nas search and nas train build it on first use when data.input_cache is true (auto: with data=coco); "
        "this verb builds it ahead, e.g. on each node of a cluster.\n\n"
        "example: nas data cache proxy=coco512 data=coco data.images=DIR data.annotations=FILE",
    )
    cache.add_argument("overrides", nargs="*", metavar="OVERRIDE", help="Hydra overrides (proxy=..., data=...)")
    cache.set_defaults(func=run_cache)
