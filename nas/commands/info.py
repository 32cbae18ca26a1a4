"""`nas info SOURCE [--task classification]`: params (M), FLOPs (B multiply-adds) and per-level
shapes of a detector or of the paper's classifier; `nas info --task classification --table`: the
paper's ImageNet table beside our counts.

Counted on meta tensors (no weights, no arithmetic), so even SpineNet-190 at 1280 px is quick.
Blocks that feed no output are not built and not counted (as TF Model Garden); a `note:` line
names them.
"""

from __future__ import annotations

import json
import sys

from nas.commands.data import _positive  # the shared positive-integer argument type
from nas.sources import resolve_source
from search_space.errors import UserInputError
from search_space.reachability import dead_block_note, dead_features, unused_output_note
from search_space.scaling import SCALING_MAP, get_scaling

DETECTION, CLASSIFICATION = "detection", "classification"
DETECTION_CLASSES = 90  # COCO's label ids, as the paper counts the detector
CLASSIFICATION_CLASSES = 1000  # ImageNet, as the paper's classification table
CLASSIFICATION_SIZE = 224  # the paper's ImageNet input side
HEADS = {
    DETECTION: "backbone + endpoints + RetinaNet head",
    CLASSIFICATION: "backbone + endpoints + classification head, aggregation 'all'",
}


def summarize(source_text: str, model: str, input_size: int | None, num_classes: int = DETECTION_CLASSES,
              task: str = DETECTION) -> dict:
    """The info of one SOURCE at one SpineNet scaling, as a plain dict.

    Args:
        input_size: square input side; None: the model's for detection, 224 for classification.
        task: 'detection' (RetinaNet) or 'classification' (the paper's classifier, no head conv);
            a classification dict also carries `task`.
    Raises:
        UserInputError: unknown SOURCE or model, non-positive sizes.
    """
    from proxy_trainer.modeling.model_config import ModelConfig  # torch only when the verb runs

    source = resolve_source(source_text, allow_baseline=True)
    scaling = get_scaling(model)
    size = input_size or (CLASSIFICATION_SIZE if task == CLASSIFICATION else scaling.input_size)
    config = ModelConfig.from_scaling(scaling)
    summary = _count(task, source.spec, config, num_classes, size)
    spec, levels = source.spec, (config.min_level, config.max_level)
    notes = [note for note in (unused_output_note(spec, *levels), dead_block_note(spec, *levels)) if note] if spec else []
    flops_digits = 2 if task == CLASSIFICATION else 1  # about three significant digits either way
    return {
        "source": source.label,
        "model": model,
        **({"task": task} if task == CLASSIFICATION else {}),
        "input_size": size,
        "num_classes": num_classes,
        "params": summary.params,
        "params_m": round(summary.params / 1e6, 2),
        "multiply_adds": summary.multiply_adds,
        "flops_b": round(summary.multiply_adds / 1e9, flops_digits),
        "levels": {f"P{lv}": list(shape) for lv, shape in summary.level_shapes.items()},
        "dead_features": list(dead_features(spec, *levels)) if spec else [],
        "notes": notes,
        "config": config.to_dict(),
    }


def _count(task: str, spec, config, num_classes: int, size: int):
    """The task's summary (params, multiply_adds, level_shapes) of one model on meta tensors."""
    if task == CLASSIFICATION:
        from proxy_trainer.tasks.classification.model import summarize_classifier

        return summarize_classifier(spec, config, num_classes=num_classes, image_size=size)
    from proxy_trainer.complexity import describe_model

    return describe_model(spec, config, num_classes=num_classes, image_size=size)


def format_text(info: dict) -> str:
    """Human-readable lines of `summarize`'s dict."""
    size = f"{info['input_size']}x{info['input_size']}"
    task = info.get("task", DETECTION)
    flops = f"{info['flops_b']:.2f}" if task == CLASSIFICATION else f"{info['flops_b']:.1f}"
    lines = [
        f"{info['source']}  (scaling {info['model']}, input {size}, {info['num_classes']} classes, batch 1)",
        f"params: {info['params_m']:.2f} M",
        f"FLOPs:  {flops} B multiply-adds ({HEADS[task]})",
        "level  shape",
    ]
    lines += [f"{name:<6} {shape}" for name, shape in info["levels"].items()]
    lines += [f"note: {note}" for note in info["notes"]]
    return "\n".join(lines) + "\n"


# ---- the paper's ImageNet table ---------------------------------------------------------------


def table_rows() -> list[dict]:
    """Every row of the paper's ImageNet table with our counts, as plain dicts."""
    from dataclasses import asdict

    from proxy_trainer.tasks.classification.model import imagenet_table_rows  # torch only when asked

    return [asdict(row) for row in imagenet_table_rows()]


def _model_label(model: str) -> str:
    return "ResNet-50" if model == "resnet-50" else f"SpineNet-{model}"


def _difference(value: float | None) -> str:
    return "-" if value is None else f"{value:+.2%}"


def format_table(rows: list[dict]) -> str:
    """The table as text: ours and the paper's params (M) and FLOPs (B) with (ours - paper) / paper."""
    lines = [
        f"ImageNet classifiers at {CLASSIFICATION_SIZE}x{CLASSIFICATION_SIZE}, {CLASSIFICATION_CLASSES} classes, batch 1: "
        + "ours beside the paper's table (FLOPs are multiply-adds)",
        f"{'model':<12} {'params (M)':>10} {'paper':>6} {'diff':>7}   {'FLOPs (B)':>9} {'paper':>6} {'diff':>7}",
    ]
    for row in rows:
        paper_flops = "-" if row["paper_flops_b"] is None else f"{row['paper_flops_b']:.1f}"
        lines.append(
            f"{_model_label(row['model']):<12} {row['params'] / 1e6:>10.2f} {row['paper_params_m']:>6.1f} "
            f"{_difference(row['params_difference']):>7}   {row['multiply_adds'] / 1e9:>9.2f} {paper_flops:>6} "
            f"{_difference(row['flops_difference']):>7}"
        )
    lines += ["ours: the spinenet-49 spec at each scaling with the classification head (aggregation 'all', no head",
              "conv); ResNet-50: torchvision's, counted by the same tool; diff = (ours - paper) / paper; the paper",
              "gives SpineNet-190's params only (its improved-recipe table)"]
    return "\n".join(lines) + "\n"


def check_arguments(args) -> None:
    """Refuse combinations that mean nothing, one line each.

    Raises:
        UserInputError: --table without --task classification, with SOURCE or a size option;
            no SOURCE without --table.
    """
    if args.table:
        if args.task != CLASSIFICATION:
            raise UserInputError("--table prints the paper's ImageNet classification table; "
                                 "use: nas info --task classification --table")
        given = [flag for flag, value in (("SOURCE", args.source), ("--model", args.model),
                                          ("--input-size", args.input_size), ("--num-classes", args.num_classes))
                 if value is not None]
        if given:
            raise UserInputError(f"--table has its own models and sizes (224 px, 1000 classes); drop {given[0]}, "
                                 "or leave out --table to count one SOURCE")
    elif args.source is None:
        raise UserInputError("give a SOURCE (e.g. nas info spinenet-49), or --task classification --table "
                             "for the paper's ImageNet table")


def run(args) -> int:
    check_arguments(args)
    if args.table:
        rows = table_rows()
        sys.stdout.write(json.dumps({"input_size": CLASSIFICATION_SIZE, "num_classes": CLASSIFICATION_CLASSES,
                                     "rows": rows}, indent=2) + "\n" if args.json else format_table(rows))
        return 0
    num_classes = args.num_classes or (CLASSIFICATION_CLASSES if args.task == CLASSIFICATION else DETECTION_CLASSES)
    info = summarize(args.source, args.model or "49", args.input_size, num_classes, args.task)
    sys.stdout.write(json.dumps(info, indent=2) + "\n" if args.json else format_text(info))
    return 0


def register(verbs) -> None:
    parser = verbs.add_parser(
        "info",
        help="params, FLOPs and level shapes of a detector or classifier; the paper's ImageNet table",
        description="Build the RetinaNet detector for SOURCE at a SpineNet scaling on meta tensors and "
        "print its params (M), FLOPs (B multiply-adds, as the paper counts: backbone + endpoints + "
        "head, batch 1, 9 anchors) and the shape of each pyramid level. With --task classification, "
        "the paper's classifier instead (the same backbone with the classification head: endpoints "
        "averaged at the lowest level, aggregation 'all', global pooling, linear), at 224 px with 1000 "
        "classes unless --input-size / --num-classes say otherwise. 'nas info --task classification "
        "--table' takes no SOURCE and prints the paper's ImageNet table (SpineNet-49/96/143/190, "
        "ResNet-50) beside our counts.\n\n"
        "examples: nas info spinenet-49 --model 49;  nas info spinenet-49 --model 190 --json;  "
        "nas info r50-fpn --input-size 640;  nas info spinenet-49 --task classification --model 96;  "
        "nas info --task classification --table",
    )
    parser.add_argument("source", metavar="SOURCE", nargs="?",
                        help="built-in name, spec file, RUN:TRIAL, or r50-fpn (baseline); none with --table")
    parser.add_argument("--task", choices=(DETECTION, CLASSIFICATION), default=DETECTION,
                        help="the model counted: the RetinaNet detector (default) or the paper's classifier")
    parser.add_argument("--model", default=None, choices=list(SCALING_MAP), help="SpineNet scaling (default 49)")
    parser.add_argument("--input-size", type=_positive, default=None,
                        help="square input size (default: the model's for detection, 224 for classification)")
    parser.add_argument("--num-classes", type=_positive, default=None,
                        help="head classes (default 90 for detection, as the paper; 1000 for classification)")
    parser.add_argument("--table", action="store_true",
                        help="with --task classification and no SOURCE: the paper's ImageNet table beside ours")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    parser.set_defaults(func=run)
