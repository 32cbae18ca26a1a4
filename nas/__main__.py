"""`python -m nas` runs the CLI."""

import sys

from nas.cli import main

sys.exit(main())
