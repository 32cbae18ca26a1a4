"""Paper ablations: per-arm summaries from exact rewards, and a quick end-to-end run (three real
Ray searches, learned/hourglass/fish, then an architecture and its damaged forms trained)."""

import json

import pytest

from nas.inspect.runs import load_run
from search_space import spec_from_dict


@pytest.fixture(scope="module")
def ablations(load_benchmark):
    return load_benchmark("ablations")


def test_ordering_summary_exact(ablations):
    summary = ablations.ordering_summary([0.1, 0.5, 0.3, 0.2])
    assert summary["best"] == 0.5 and summary["trials"] == 4
    assert summary["top3_mean"] == pytest.approx((0.5 + 0.3 + 0.2) / 3)
    assert summary["mean"] == pytest.approx(0.275)


def test_quick_run_end_to_end(tmp_path, run_benchmark):
    proc = run_benchmark("ablations", "--quick", "--trials", "1", "--out", str(tmp_path), "--runs", str(tmp_path))
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads((tmp_path / "ablations.json").read_text())
    assert {o: s["trials"] for o, s in result["orderings"].items()} == {"searched": 1, "hourglass": 1, "fish": 1}
    for ordering, outputs in (("hourglass", [7, 6, 5, 4, 3]), ("fish", [3, 4, 5, 6, 7])):
        run = load_run(str(tmp_path / f"ablation-{ordering}"))
        assert run.summary["config"]["space"]["overrides"] == {"ordering": ordering}
        spec = spec_from_dict(run.trials[0]["spec"])
        assert [b.level for b in spec.blocks if b.is_output] == outputs
    table, names = result["per_arch"], result["damaged"]
    assert names == ["r0-sp53", "r0-sp53~no-short-range", "r0-sp53~no-long-range", "r0-sp53~sequential"]
    assert [n.split(" ")[0] for n in result["arm_bests"]] == ["searched-best", "hourglass-best", "fish-best"]
    assert sorted(table) == sorted(names + result["arm_bests"]) and len(result["runs"]) == 7 * 2
    assert all(table[n]["flops"] < table["r0-sp53"]["flops"] for n in names[1:])
    again = run_benchmark("ablations", "--quick", "--trials", "1", "--out", str(tmp_path), "--runs", str(tmp_path))
    assert again.returncode == 0 and "retraining: 0 trainings (14 reused)" in again.stdout
    table9 = run_benchmark("ablations", "--quick", "--tables", "9", "--out", str(tmp_path), "--runs", str(tmp_path / "none"))
    assert table9.returncode == 0 and "retraining: 0 trainings (8 reused)" in table9.stdout
    assert "Table 8" not in table9.stdout and not (tmp_path / "none").exists()  # no search run for Table 9 alone
    alone = json.loads((tmp_path / "ablations.json").read_text())
    assert alone["orderings"] == {} and alone["damaged"] == names and sorted(alone["per_arch"]) == sorted(names)
