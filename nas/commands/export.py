"""`nas export SOURCE --format json|tf|torch [--model M] [--task classification [--num-classes K]]
[--top K] [-o PATH]`: write specs out.

`json` is the spec file format; `tf` is TF Model Garden's SPINENET_BLOCK_SPECS list (with one
added SCALING_MAP key when --model is given, so pasting it keeps Model Garden's other keys); `torch` is the JSON file that
`proxy_trainer.modeling.torch_export.build_spinenet(path)` builds a SpineNet from, at the
--model scale; with `--task classification` that file also holds the paper's classifier head and
`build_spinenet_classifier(path)` builds the classifier. With `--top K`, SOURCE is a run folder
and -o a folder that receives one file per trial, best first.
"""

from __future__ import annotations

import os

from nas.commands.data import _positive  # the shared positive-integer argument type
from nas.commands.sample import positive_count
from nas.output import write_text
from nas.sources import resolve_source
from search_space.errors import UserInputError
from search_space.scaling import SCALING_MAP, get_scaling
from search_space.serialize import spec_to_json
from search_space.spec import ArchSpec
from search_space.tf_format import to_tf_text

FORMATS = ("json", "tf", "torch")
TASKS = ("detection", "classification")  # what a torch file holds: the backbone, or the classifier
EXTENSIONS = {"json": ".json", "tf": ".py", "torch": ".torch.json"}  # file names written by --top K


def render(spec: ArchSpec, fmt: str, model: str | None) -> str:
    """The exported text of one spec in the `json` or `tf` format."""
    if fmt == "json":
        return spec_to_json(spec) + "\n"
    scaling = get_scaling(model) if model else None
    return to_tf_text(spec, scaling, model)


def write_export(spec: ArchSpec, fmt: str, model: str | None, path: str | None, head=None) -> None:
    """Write one spec in one format to `path` (stdout for None, except `torch`); `head` (a
    `torch_export.HeadSettings`) makes a torch file a classifier's.

    Raises:
        UserInputError: unwritable path, unknown model, or `torch` without a path.
    """
    if fmt != "torch":
        write_text(path, render(spec, fmt, model))
        return
    if path in (None, "-"):
        raise UserInputError("--format torch writes a file; give -o PATH (e.g. -o spinenet49.torch.json)")
    if os.path.isdir(path):
        raise UserInputError(f"{path} is a directory; give a file path for -o")
    from proxy_trainer.modeling.torch_export import save_torch_spec  # torch only for this format

    save_torch_spec(path, spec, model, head)


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
        UserInputError: --task classification without --format torch, or --num-classes without it.
    """
    if args.task != "classification":
        if args.num_classes is not None:
            raise UserInputError("--num-classes sets the classifier's classes; add --task classification --format torch")
        return None
    if args.format != "torch":
        raise UserInputError(f"--task classification exports a PyTorch classifier; use --format torch, not {args.format}")
    from proxy_trainer.modeling.torch_export import HeadSettings  # torch only for this format

    return HeadSettings() if args.num_classes is None else HeadSettings(num_classes=args.num_classes)


def run(args) -> int:
    if args.model:
        get_scaling(args.model)
    head = classifier_head(args)
    if args.top is None:
        write_export(resolve_source(args.source).spec, args.format, args.model, args.output, head)
        return 0
    for path, spec in _top_paths(args):
        write_export(spec, args.format, args.model, path, head)
        print(f"wrote {path}")
    return 0


def register(verbs) -> None:
    parser = verbs.add_parser(
        "export",
        help="write a spec as JSON, a TF Model Garden block-spec list, or a PyTorch SpineNet file",
        description="Export an architecture. 'json' is the spec file format; 'tf' is TF Model "
        "Garden's SPINENET_BLOCK_SPECS list (a comment names its form; with --model, one line "
        "SCALING_MAP['M'] = {...} that adds key M to Model Garden's map and keeps the others); 'torch' is "
        "a JSON file that proxy_trainer.modeling.torch_export.build_spinenet(path) turns into a "
        "SpineNet backbone at the --model scale (default 49); with --task classification the file "
        "also holds the paper's classifier head (aggregation 'all', --num-classes, default 1000) and "
        "build_spinenet_classifier(path) in the same module turns it into the classifier the "
        "classification search trains. With --top K, SOURCE is a run "
        "folder and one file per top-K trial goes into the -o folder (default RUN/export).\n\n"
        "examples: nas export spinenet-49 --format tf --model 49 -o spinenet49_specs.py\n"
        "          nas export results/runs/demo --top 3 --format torch --model 49S -o best/\n"
        "          nas export spinenet-49 --format torch --task classification --model 49 -o sp49_cls.torch.json",
    )
    parser.add_argument("source", metavar="SOURCE",
                        help="built-in name, spec file, RUN:TRIAL or RUN:best; a run folder with --top")
    parser.add_argument("--format", choices=FORMATS, default="json", help="output format (default json)")
    parser.add_argument("--model", choices=tuple(SCALING_MAP),
                        help="SpineNet scale: the tf scaling entry, or the torch build scale (default 49)")
    parser.add_argument("--task", choices=TASKS, default="detection",
                        help="torch format: the backbone alone (detection, default) or the paper's classifier")
    parser.add_argument("--num-classes", type=_positive, metavar="K",
                        help="the classifier's classes with --task classification (default 1000)")
    parser.add_argument("--top", type=positive_count, metavar="K", help="export the K best trials of run folder SOURCE")
    parser.add_argument("-o", "--output", metavar="PATH", help="output file (default stdout); a folder with --top")
    parser.set_defaults(func=run)
