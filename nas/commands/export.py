"""`nas export SOURCE --format json|tf [--model M] [-o FILE]`: write a spec out."""

from __future__ import annotations

from nas.output import write_text
from nas.sources import resolve_source
from search_space.scaling import SCALING_MAP, get_scaling
from search_space.serialize import spec_to_json
from search_space.tf_format import to_tf_text

FORMATS = ("json", "tf")


def render(spec, fmt: str, model: str | None) -> str:
    """The exported text of one spec in one format."""
    if fmt == "json":
        return spec_to_json(spec) + "\n"
    scaling = get_scaling(model) if model else None
    return to_tf_text(spec, scaling, model)


def run(args) -> int:
    spec = resolve_source(args.source).spec
    write_text(args.output, render(spec, args.format, args.model))
    return 0


def register(verbs) -> None:
    parser = verbs.add_parser(
        "export",
        help="write a spec as JSON or as a TF Model Garden block-spec list",
        description="Export an architecture. 'json' is the spec file format; 'tf' is TF Model "
        "Garden's SPINENET_BLOCK_SPECS list (plus its SCALING_MAP entry with --model).\n\n"
        "example: nas export spinenet-49 --format tf --model 49 -o spinenet49_specs.py",
    )
    parser.add_argument("source", metavar="SOURCE", help="built-in name, spec file, RUN:TRIAL or RUN:best")
    parser.add_argument("--format", choices=FORMATS, default="json", help="output format (default json)")
    parser.add_argument("--model", choices=tuple(SCALING_MAP), help="SpineNet scale for the tf scaling entry")
    parser.add_argument("-o", "--output", metavar="PATH", help="output file (default stdout)")
    parser.set_defaults(func=run)
