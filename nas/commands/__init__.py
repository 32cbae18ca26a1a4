"""The CLI verbs. Each module here defines `register(subparsers)`, which adds its parser and
sets `func(args) -> exit code`. Add a verb by adding its module name to COMMAND_MODULES."""

COMMAND_MODULES = (
    "validate",
    "export",
)
