"""`python -m hooked_nas VERB ARGS`: the `nas` command line whose searches train with the test
trainable of `trial_hooks` (hooks from the environment, `Hooks.from_env`). The subprocess drivers
of the fault and lifecycle tests run it; everything else is the real CLI."""

import functools
import sys

from trial_hooks import Hooks, hooked_trainable

import nas.search
from nas.cli import main

if __name__ == "__main__":
    nas.search.run_search = functools.partial(nas.search.run_search, trainable=hooked_trainable(Hooks.from_env()))
    sys.exit(main())
