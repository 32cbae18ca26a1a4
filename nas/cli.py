"""The `nas` command line: one sub-command per verb, each in `nas/commands/<verb>.py`.

Every user error (`search_space.UserInputError` and its subclasses) becomes one line on stderr
and exit code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from nas.commands import COMMAND_MODULES
from search_space.errors import UserInputError

EXIT_USAGE = 2


class OneLineParser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line on stderr and exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        sys.stderr.write(f"{self.prog}: error: {message} (see '{self.prog} --help')\n")
        sys.exit(EXIT_USAGE)


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with every verb found in `nas.commands`."""
    parser = OneLineParser(
        prog="nas",
        description="spinenet-nas: search, inspect and export scale-permuted detection backbones.",
    )
    verbs = parser.add_subparsers(dest="verb", metavar="VERB", parser_class=OneLineParser)
    for module_name in COMMAND_MODULES:
        module = importlib.import_module(f"nas.commands.{module_name}")
        module.register(verbs)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one verb; returns the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_USAGE
    try:
        return int(args.func(args) or 0)
    except UserInputError as err:
        sys.stderr.write(f"nas {args.verb}: error: {err}\n")
        return EXIT_USAGE
    except KeyboardInterrupt:
        sys.stderr.write(f"nas {args.verb}: interrupted\n")
        return 130
    except BrokenPipeError:  # `nas sample | head`: the reader left; nothing more to say
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # Python docs' recipe
        return 0
