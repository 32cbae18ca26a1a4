"""The CLI verbs. Each module here defines `register(verbs)`, which adds its sub-parser and
sets `func(args) -> exit code`. Modules are discovered by name, so adding a verb is adding a file."""

import pkgutil

COMMAND_MODULES = tuple(sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_")))
