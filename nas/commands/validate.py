"""`nas validate SOURCE`: check a spec and print `valid: NAME (N blocks)`, then a `note:` line
for blocks that feed no output and for outputs outside the spec's levels (both are valid)."""

from __future__ import annotations

from nas.sources import resolve_source
from search_space.reachability import dead_block_note, unused_output_note


def run(args) -> int:
    spec = resolve_source(args.source).spec
    print(f"valid: {spec.name} ({len(spec.blocks)} blocks)")
    for note in (unused_output_note(spec), dead_block_note(spec)):
        if note:
            print(f"note: {note}")
    return 0


def register(verbs) -> None:
    parser = verbs.add_parser(
        "validate",
        help="check an architecture spec",
        description="Check a spec against every rule of the spec language. Prints 'valid: NAME "
        "(N blocks)' (plus a 'note:' line naming blocks that feed no output, which are not built, and "
        "outputs outside the spec's levels) and exits 0, or prints one line on stderr and exits 2.\n\n"
        "example: nas validate my_spec.json",
    )
    parser.add_argument("source", metavar="SOURCE", help="built-in name, spec file (JSON or TF list), RUN:TRIAL")
    parser.set_defaults(func=run)
