"""`nas export SOURCE --format json|tf|torch|onnx [--model M] [--task classification [--num-classes K]]
[--input-size S] [--dynamic-batch] [--top K] [-o PATH]`: write specs and models out.

`json` is the spec file format; `tf` is TF Model Garden's SPINENET_BLOCK_SPECS list (with one
added SCALING_MAP key when --model is given, so pasting it keeps Model Garden's other keys); `torch` is the JSON file that
`proxy_trainer.modeling.torch_export.build_spinenet(path)` builds a SpineNet from, at the
--model scale; with `--task classification` that file also holds the paper's classifier head and
`build_spinenet_classifier(path)` builds the classifier. `onnx` writes the built model itself
(the backbone, or the classifier with `--task classification`) as an ONNX file for an S x S input
(`proxy_trainer/modeling/onnx_export.py`), runs it once on onnxruntime and prints its error against
eager PyTorch; it needs the optional extra `onnx`. With `--top K`, SOURCE is a run folder and -o a
folder that receives one file per trial, best first.
"""

from __future__ import annotations

import argparse
import os
import sys

from nas.commands.data import _positive  # the shared positive-integer argument type
from nas.commands.sample import positive_count
from nas.output import write_text
from nas.sources import resolve_source
from search_space.errors import UserInputError
from search_space.scaling import SCALING_MAP, get_scaling
from search_space.serialize import spec_to_json
from search_space.spec import ArchSpec
from search_space.tf_format import to_tf_text

FORMATS = ("json", "tf", "torch", "onnx")
MODEL_FORMATS = ("torch", "onnx")  # the formats that can hold the classifier
TASKS = ("detection", "instance", "classification")  # what a torch or onnx file holds: the backbone
# (a torch file of `instance` records it, so `build_spinenet_detector` builds Mask R-CNN), or the classifier
EXTENSIONS = {"json": ".json", "tf": ".py", "torch": ".torch.json", "onnx": ".onnx"}  # file names written by --top K
CLASSIFICATION_SIZE = 224  # the default ONNX input side of a classifier (the paper's ImageNet input)
EXIT_CHECK_FAILED = 1  # the ONNX file was written but onnxruntime's outputs are outside the tolerance


def render(spec: ArchSpec, fmt: str, model: str | None) -> str:
    """The exported text of one spec in the `json` or `tf` format."""
    if fmt == "json":
        return spec_to_json(spec) + "\n"
    scaling = get_scaling(model) if model else None
    return to_tf_text(spec, scaling, model)


def write_export(spec: ArchSpec, fmt: str, model: str | None, path: str | None, head=None,
                 task: str = "detection") -> None:
    """Write one spec in one format to `path` (stdout for None, except `torch`); `head` (a
    `torch_export.HeadSettings`) makes a torch file a classifier's; `task` instance marks a torch
    backbone file as Mask R-CNN's (detection's files keep the form they had before tasks).

    Raises:
        UserInputError: unwritable path, unknown model, or `torch` without a path.
    """
    if fmt != "torch":
        write_text(path, render(spec, fmt, model))
        return
    check_file_path(path, "torch", "spinenet49.torch.json")
    from proxy_trainer.modeling.torch_export import save_torch_spec  # torch only for this format

    save_torch_spec(path, spec, model, head, task="instance" if task == "instance" else None)


def check_file_path(path: str | None, fmt: str, example: str) -> None:
    """Raise `UserInputError` unless `path` names a file (a format that cannot go to stdout)."""
    if path in (None, "-"):
        raise UserInputError(f"--format {fmt} writes a file; give -o PATH (e.g. -o {example})")
    if os.path.isdir(path):
        raise UserInputError(f"{path} is a directory; give a file path for -o")


def onnx_input_size(args) -> int:
    """The side S of the ONNX input: --input-size, else 224 for a classifier, else the scaling's."""
    if args.input_size is not None:
        return args.input_size
    if args.task == "classification":
        return CLASSIFICATION_SIZE
    from proxy_trainer.modeling.torch_export import DEFAULT_MODEL  # torch only for this format

    return get_scaling(args.model or DEFAULT_MODEL).input_size


def build_model(spec: ArchSpec, model: str | None, head):
    """The module an ONNX file holds: the SpineNet backbone, or the classifier for a `head`."""
    from proxy_trainer.modeling.torch_export import build_spinenet, build_spinenet_classifier

    if head is None:
        return build_spinenet(spec, model)
    return build_spinenet_classifier(spec, model, head.num_classes, dropout=head.dropout, head_conv=head.head_conv)


def write_onnx(spec: ArchSpec, args, path: str, head) -> bool:
    """Build, export to `path` and check one model; print what was written and the measured error.

    Returns:
        whether onnxruntime's outputs are within the tolerance.
    Raises:
        UserInputError: no or bad -o, unwritable path, or the extra is missing.
    """
    from proxy_trainer.modeling.onnx_export import DEFAULT_OPSET, check_onnx, export_onnx  # torch only here
    from proxy_trainer.modeling.torch_export import DEFAULT_MODEL

    check_file_path(path, "onnx", "spinenet49.onnx")
    size, module = onnx_input_size(args), build_model(spec, args.model, head)
    export_onnx(module, path, size, dynamic_batch=args.dynamic_batch)
    check = check_onnx(path, module, size)
    what = "classifier" if head is not None else "backbone"
    batch = "N" if args.dynamic_batch else "1"
    print(f"wrote {path}: {spec.name} {what} at {args.model or DEFAULT_MODEL}, input [{batch}, 3, {size}, {size}], "
          f"opset {DEFAULT_OPSET}")
    print(check.describe(), file=sys.stdout if check.passed else sys.stderr)
    return check.passed


def check_onnx_options(args) -> None:
    """Raise `UserInputError` for ONNX-only options on another format, or a missing ONNX extra.

    The extra is checked first, before any model is built or any file written.
    """
    if args.format != "onnx":
        for flag, value in (("--input-size", args.input_size), ("--dynamic-batch", args.dynamic_batch or None)):
            if value is not None:
                raise UserInputError(f"{flag} sets the ONNX export's input; add --format onnx")
        return
    from proxy_trainer.modeling.onnx_export import require_onnx_packages  # torch only for this format

    require_onnx_packages()


def _top_paths(args) -> list[tuple[str, ArchSpec]]:
    from nas.inspect.figures import output_folder  # run tools: only for --top
    from nas.inspect.runs import load_run, trial_spec

    run = load_run(args.source)
    folder = output_folder(args.output or os.path.join(args.source, "export"))
    rows = run.ranked(args.top)
    if not rows:
        raise UserInputError(f"{args.source} has no finished trial with a reward yet; nothing to export")
    ext = EXTENSIONS[args.format]
    return [
        (os.path.join(folder, f"top{rank}-{row['trial_id']}{ext}"), trial_spec(row))
        for rank, row in enumerate(rows, start=1)
    ]


def classifier_head(args):
    """The `HeadSettings` of a classification export; None for a backbone export.

    Raises:
        UserInputError: --task classification without --format torch or onnx, or --num-classes without it.
    """
    if args.task != "classification":
        if args.num_classes is not None:
            raise UserInputError("--num-classes sets the classifier's classes; add --task classification --format torch")
        return None
    if args.format not in MODEL_FORMATS:
        raise UserInputError(f"--task classification exports a PyTorch classifier; use --format torch, not "
                             f"{args.format} (or --format onnx)")
    from proxy_trainer.modeling.torch_export import HeadSettings  # torch only for this format

    return HeadSettings() if args.num_classes is None else HeadSettings(num_classes=args.num_classes)


def run(args) -> int:
    if args.model:
        get_scaling(args.model)
    head = classifier_head(args)
    check_onnx_options(args)
    if args.format == "onnx":
        return run_onnx(args, head)
    if args.top is None:
        write_export(resolve_source(args.source).spec, args.format, args.model, args.output, head, args.task)
        return 0
    for path, spec in _top_paths(args):
        write_export(spec, args.format, args.model, path, head, args.task)
        print(f"wrote {path}")
    return 0


def run_onnx(args, head) -> int:
    """Write and check one ONNX file, or one per top-K trial; exit 1 if any check fails."""
    if args.top is None:
        targets = [(args.output, resolve_source(args.source).spec)]
    else:
        targets = _top_paths(args)
    passed = [write_onnx(spec, args, path, head) for path, spec in targets]
    return 0 if all(passed) else EXIT_CHECK_FAILED


def register(verbs) -> None:
    parser = verbs.add_parser(
        "export",
        help="write a spec as JSON, a TF Model Garden block-spec list, a PyTorch SpineNet file or an ONNX model",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Export an architecture.\n\n"
        "  json   the spec file format\n"
        "  tf     TF Model Garden's SPINENET_BLOCK_SPECS list (a comment names its form; with --model, one\n"
        "         line SCALING_MAP['M'] = {...} that adds key M to Model Garden's map and keeps the others)\n"
        "  torch  a JSON file that proxy_trainer.modeling.torch_export.build_spinenet(path) turns into a\n"
        "         SpineNet backbone at the --model scale (default 49); with --task classification the file\n"
        "         also holds the paper's classifier head (aggregation 'all', --num-classes, default 1000)\n"
        "         and build_spinenet_classifier(path) in the same module turns it into the classifier the\n"
        "         classification search trains\n"
        "  onnx   the model itself as an ONNX file for a [1, 3, S, S] input: the backbone (outputs P3..P7)\n"
        "         or, with --task classification, the classifier (output logits); --input-size S (default\n"
        "         the scaling's input, 224 for the classifier), --dynamic-batch for any batch size. The\n"
        "         file is run once on onnxruntime and its error against PyTorch printed (exit 1 if above\n"
        "         the tolerance). Needs the optional extra: pip install -e '.[onnx]'\n\n"
        "With --top K, SOURCE is a run folder and one file per top-K trial goes into the -o folder\n"
        "(default RUN/export).\n\n"
        "examples:\n"
        "  nas export spinenet-49 --format tf --model 49 -o spinenet49_specs.py\n"
        "  nas export results/runs/demo --top 3 --format torch --model 49S -o best/\n"
        "  nas export spinenet-49 --format torch --task classification --model 49 -o sp49_cls.torch.json\n"
        "  nas export spinenet-49 --format onnx --model 49 -o spinenet49.onnx",
    )
    parser.add_argument("source", metavar="SOURCE",
                        help="built-in name, spec file, RUN:TRIAL or RUN:best; a run folder with --top")
    parser.add_argument("--format", choices=FORMATS, default="json", help="output format (default json)")
    parser.add_argument("--model", choices=tuple(SCALING_MAP),
                        help="SpineNet scale: the tf scaling entry, or the torch build scale (default 49)")
    parser.add_argument("--task", choices=TASKS, default="detection",
                        help="torch and onnx formats: the backbone (detection, default; instance: a torch file that "
                        "builds Mask R-CNN) or the paper's classifier")
    parser.add_argument("--num-classes", type=_positive, metavar="K",
                        help="the classifier's classes with --task classification (default 1000)")
    parser.add_argument("--input-size", type=_positive, metavar="S",
                        help="onnx format: the square input side (default: the scaling's, 224 with --task classification)")
    parser.add_argument("--dynamic-batch", action="store_true",
                        help="onnx format: leave the batch size free instead of 1")
    parser.add_argument("--top", type=positive_count, metavar="K", help="export the K best trials of run folder SOURCE")
    parser.add_argument("-o", "--output", metavar="PATH", help="output file (default stdout); a folder with --top")
    parser.set_defaults(func=run)
