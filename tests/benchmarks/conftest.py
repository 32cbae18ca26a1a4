"""Fixtures of the benchmark tests: load a benchmark script as a module, run it as a command."""

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


@pytest.fixture(scope="session")
def load_benchmark():
    """`load(name)`: benchmarks/<name>.py imported as a module (its folder on sys.path for `common`)."""

    def load(name: str):
        sys.path.insert(0, str(BENCHMARKS))
        spec = importlib.util.spec_from_file_location(name, BENCHMARKS / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    return load


@pytest.fixture(scope="session")
def run_benchmark():
    """`run(name, *args)`: benchmarks/<name>.py run by this Python from the repository root."""

    def run(name: str, *args: str) -> subprocess.CompletedProcess:
        env = dict(os.environ, RAY_AUTH_MODE="disabled")
        command = [sys.executable, str(BENCHMARKS / f"{name}.py"), *args]
        return subprocess.run(command, check=False, capture_output=True, text=True, cwd=BENCHMARKS.parent,
                              env=env, timeout=900)

    return run
