"""Smoke test of `benchmarks/controller_efficiency.py --quick`: it runs and writes its JSON."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "controller_efficiency.py"


def test_quick_mode_writes_a_complete_table(tmp_path):
    done = subprocess.run([sys.executable, str(SCRIPT), "--quick", "--out", str(tmp_path)],
                          check=False, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    data = json.loads((tmp_path / "controller_efficiency.json").read_text())
    assert data["mode"] == "quick" and data["budgets"] == [4, 8]
    assert set(data["results"]) == {"random", "evolution", "ppo", "reinforce"}
    for per_family in data["results"].values():
        assert set(per_family) == {"additive", "interacting", "noisy-additive", "noisy-interacting"}
        for family, cell in per_family.items():
            best = [cell["mean_best"][str(b)] for b in (4, 8)]
            assert all(0.0 <= b <= 0.3 for b in best)
            if not family.startswith("noisy"):  # noise-free: the best observed can only improve
                assert best[0] <= best[1], family
    assert "family" in done.stdout and "machine" in data
