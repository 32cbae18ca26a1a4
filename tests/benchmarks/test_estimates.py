"""Estimates benchmark on a made-up table with a known answer: an estimate equal to the AP ranks
perfectly, an inverted one at -1; the predictor's cross-validation and the pool orders count
exactly what they say."""

import json

import pytest

from search_space import SearchSpace
from search_space.serialize import spec_to_dict


@pytest.fixture(scope="module")
def est(load_benchmark):
    return load_benchmark("estimates")


@pytest.fixture(scope="module")
def table():
    """16 random specs whose AP is the level of their first block plus a little for each bottleneck
    block (a learnable answer)."""
    space = SearchSpace.from_seed("resnet50")
    rows = {}
    for k in range(16):
        spec = space.sample_spec(7, k)
        ap = round(spec.blocks[0].level / 10 + sum(b.block_fn == "bottleneck" for b in spec.blocks) / 150, 4)
        rows[spec.name] = {"spec": spec_to_dict(spec), "ap": ap, "ap_per_seed": [ap - 0.001, ap + 0.001],
                           "params": 100 - k, "flops": k, "curve_ap": [ap / 4, ap / 2, ap / 1.5, ap],
                           "estimates": {"grad_norm": ap * 3, "snip": -ap, "synflow": 10.0 ** (k + 1),
                                         "naswot": float("-inf")}}
    rows["r50-fpn"] = {"spec": None, "ap": 0.0, "ap_per_seed": [0.0], "params": 1, "flops": 1,
                       "curve_ap": [0.0] * 4, "estimates": {}}
    return rows


def test_rank_agreement_of_each_estimate(est, table):
    agreements = est.rank_agreements(table, epochs=4)
    assert agreements["grad_norm"]["kendall_tau"] == pytest.approx(1.0)
    assert agreements["snip"]["kendall_tau"] == pytest.approx(-1.0)
    assert agreements["ap_epoch2"]["kendall_tau"] == pytest.approx(1.0) and agreements["ap_epoch2"]["n"] == 17
    assert "naswot" not in agreements  # -inf everywhere: no defined value
    assert agreements["grad_norm"]["n"] == 16  # r50-fpn has no zero-cost scores in this table
    values = est.estimate_values(table["r50-fpn"], epochs=4)
    assert values["ap_epoch1"] == 0.0 and values["synflow"] is None


def test_cross_validation_skips_sizes_without_three_to_test_and_is_repeatable(est, table):
    cv = est.cross_validation(table, "forest", sizes=(10, 14), splits=3)
    assert list(cv) == [10] and cv[10]["tested"] == 6 and cv[10]["splits"] == 3
    assert cv == est.cross_validation(table, "forest", sizes=(10, 14), splits=3)
    assert cv[10]["kendall_tau"] == pytest.approx(0.6)  # the answer is mostly one feature: learnt from ten rows


def test_trainings_to_find_counts_positions(est):
    assert est.trainings_to_find(["a", "b", "c", "d"], "c", {"c", "d", "b"}) == {"top1": 3, "top3": 2}


def test_pool_study_orders(est, table):
    pool = est.pool_study(table, "grad_norm", "forest", runs=4, epochs=4)
    assert pool["pool"] == 16 and "r50-fpn" not in pool["top3"]
    zero_cost = pool["orders"]["zero-cost (grad_norm)"]
    assert zero_cost["top1"] == {"mean": 1.0, "se": 0.0}  # grad_norm is the AP itself here
    predictor = pool["orders"]["predictor (forest, 5 random first)"]
    assert 1 <= predictor["top3"]["mean"] <= 16


def test_missing_table_is_one_line_and_exit_2(tmp_path, run_benchmark):
    proc = run_benchmark("estimates", "--table", str(tmp_path / "none.json"), "--out", str(tmp_path))
    assert proc.returncode == 2 and proc.stderr.strip().count("\n") == 0 and "make ground-truth" in proc.stderr


def test_writes_json_and_figure(tmp_path, run_benchmark, table):
    path = tmp_path / "ground_truth.json"
    path.write_text(json.dumps({"settings": {"resolved": {"proxy": {"epochs": 4}}}, "table": table}))
    proc = run_benchmark("estimates", "--table", str(path), "--runs", "2", "--out", str(tmp_path))
    assert proc.returncode == 0, proc.stderr[-2000:]
    result = json.loads((tmp_path / "estimates.json").read_text())
    assert result["architectures"] == 17 and set(result["cross_validation"]) == {"forest", "gbm", "gp"}
    assert (tmp_path / "estimates.png").stat().st_size > 10_000
