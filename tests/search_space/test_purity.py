"""search_space is pure standard library: importing it pulls in no torch, ray or hydra."""

import subprocess
import sys

HEAVY = ("torch", "ray", "hydra", "omegaconf", "numpy")


def test_search_space_imports_no_heavy_package():
    code = (
        "import sys, search_space, search_space.space, search_space.merge_rule, search_space.encoding;"
        f"print([m for m in {HEAVY!r} if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
