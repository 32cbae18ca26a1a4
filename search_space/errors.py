"""Error types for everything a user can get wrong: one message, no traceback.

`UserInputError` is the root that the CLI turns into one line on stderr and exit code 2.
Other packages subclass it for their own inputs (data sets, configs, run folders).
"""


class UserInputError(ValueError):
    """Bad input from a user: the message says what, where, and how to fix it."""


class SpecError(UserInputError):
    """An architecture spec breaks a rule of the spec language."""
