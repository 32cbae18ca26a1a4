"""`nas info SOURCE`: params (M), FLOPs (B multiply-adds) and per-level shapes of a detector.

Counted on meta tensors (no weights, no arithmetic), so even SpineNet-190 at 1280 px is quick.
Blocks that feed no output are not built and not counted (as TF Model Garden); a `note:` line
names them.
"""

from __future__ import annotations

import json
import sys

from nas.commands.data import _positive  # the shared positive-integer argument type
from nas.sources import resolve_source
from search_space.reachability import dead_block_note, dead_features, unused_output_note
from search_space.scaling import SCALING_MAP, get_scaling


def summarize(source_text: str, model: str, input_size: int | None, num_classes: int) -> dict:
    """The info of one SOURCE at one SpineNet scaling, as a plain dict.

    Raises:
        UserInputError: unknown SOURCE or model, non-positive sizes.
    """
    from proxy_trainer.complexity import describe_model  # torch only when the verb runs
    from proxy_trainer.modeling.model_config import ModelConfig

    source = resolve_source(source_text, allow_baseline=True)
    scaling = get_scaling(model)
    size = input_size or scaling.input_size
    config = ModelConfig.from_scaling(scaling)
    summary = describe_model(source.spec, config, num_classes=num_classes, image_size=size)
    spec, levels = source.spec, (config.min_level, config.max_level)
    notes = [note for note in (unused_output_note(spec, *levels), dead_block_note(spec, *levels)) if note] if spec else []
    return {
        "source": source.label,
        "model": model,
        "input_size": size,
        "num_classes": num_classes,
        "params": summary.params,
        "params_m": round(summary.params / 1e6, 2),
        "multiply_adds": summary.multiply_adds,
        "flops_b": round(summary.multiply_adds / 1e9, 1),
        "levels": {f"P{lv}": list(shape) for lv, shape in summary.level_shapes.items()},
        "dead_features": list(dead_features(spec, *levels)) if spec else [],
        "notes": notes,
        "config": config.to_dict(),
    }


def format_text(info: dict) -> str:
    """Human-readable lines of `summarize`'s dict."""
    size = f"{info['input_size']}x{info['input_size']}"
    lines = [
        f"{info['source']}  (scaling {info['model']}, input {size}, {info['num_classes']} classes, batch 1)",
        f"params: {info['params_m']:.2f} M",
        f"FLOPs:  {info['flops_b']:.1f} B multiply-adds (backbone + endpoints + RetinaNet head)",
        "level  shape",
    ]
    lines += [f"{name:<6} {shape}" for name, shape in info["levels"].items()]
    lines += [f"note: {note}" for note in info["notes"]]
    return "\n".join(lines) + "\n"


def run(args) -> int:
    info = summarize(args.source, args.model, args.input_size, args.num_classes)
    sys.stdout.write(json.dumps(info, indent=2) + "\n" if args.json else format_text(info))
    return 0


def register(verbs) -> None:
    parser = verbs.add_parser(
        "info",
        help="params, FLOPs and level shapes of a detector",
        description="Build the RetinaNet detector for SOURCE at a SpineNet scaling on meta tensors and "
        "print its params (M), FLOPs (B multiply-adds, as the paper counts: backbone + endpoints + "
        "head, batch 1, 9 anchors) and the shape of each pyramid level.\n\n"
        "examples: nas info spinenet-49 --model 49;  nas info spinenet-49 --model 190 --json;  "
        "nas info r50-fpn --input-size 640",
    )
    parser.add_argument("source", metavar="SOURCE", help="built-in name, spec file, RUN:TRIAL, or r50-fpn (baseline)")
    parser.add_argument("--model", default="49", choices=list(SCALING_MAP), help="SpineNet scaling (default 49)")
    parser.add_argument("--input-size", type=_positive, default=None, help="square input size (default: the model's)")
    parser.add_argument("--num-classes", type=_positive, default=90, help="head classes (default 90, as the paper)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    parser.set_defaults(func=run)
