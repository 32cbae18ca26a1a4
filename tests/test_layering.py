"""The packages import one way (docs/design.md §1): every import statement of every module, those
inside functions included, is read with `ast` and checked against what its package may import."""

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN = {
    "search_space": {"torch", "torchvision", "ray", "hydra", "omegaconf", "numpy", "pycocotools",
                     "controller", "proxy_trainer", "nas"},
    "controller": {"torchvision", "ray", "hydra", "omegaconf", "pycocotools", "proxy_trainer", "nas"},
    "proxy_trainer": {"ray", "hydra", "omegaconf", "controller", "nas"},
}


def imported_roots(source: str) -> set[str]:
    """Top-level names of every absolute import in a module's source."""
    roots = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


def test_imported_roots_sees_imports_inside_functions():
    source = "import os\ndef f():\n    from ray import tune\n    import torch.nn as nn\nfrom . import sibling\n"
    assert imported_roots(source) == {"os", "ray", "torch"}


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_imports_only_downward(package):
    offenders = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        bad = imported_roots(path.read_text()) & FORBIDDEN[package]
        if bad:
            offenders[str(path.relative_to(ROOT))] = sorted(bad)
    assert offenders == {}


def test_search_space_imports_the_standard_library_only():
    for path in sorted((ROOT / "search_space").rglob("*.py")):
        outside = {r for r in imported_roots(path.read_text()) if r not in sys.stdlib_module_names}
        assert outside <= {"search_space"}, (path, outside)
