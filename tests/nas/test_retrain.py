"""`nas retrain RUN:TRIAL --seeds N`: real smoke-tier retraining of a stored spec with N seeds,
results stored next to the search's own number, and one-line errors for bad input."""

import pytest

from nas.cli import main
from nas.config import SearchConfig, compose_config
from nas.store import ResultsStore
from search_space.serialize import spec_to_dict

from .conftest import TINY


@pytest.fixture
def run_dir(tmp_path, cache_dir):
    plain = compose_config([f"run.dir={tmp_path}", f"data.cache_dir={cache_dir}", *TINY])
    space = SearchConfig.from_dict(plain).space.build()
    decisions = space.sample(seed=3, k=0)
    store = ResultsStore(str(tmp_path / "search.db"))
    store.set_meta("config", plain)
    store.commit_trial(
        {
            "trial_id": "t0",
            "proposal_index": 0,
            "decisions": list(decisions),
            "status": "ok",
            "spec": spec_to_dict(space.decode(decisions, name="cand")),
            "reward": 0.5,
            "ap": 0.5,
        }
    )
    store.close()
    return tmp_path


def test_retrain_two_seeds_records_mean_and_spread(run_dir, capsys):
    assert main(["retrain", f"{run_dir}:best", "--seeds", "2"]) == 0
    out = capsys.readouterr().out
    with ResultsStore.open_readonly(str(run_dir / "search.db")) as store:
        rows = store.retrains("t0")
        seed = store.config()["proxy"]["seed"]
    assert [r["seed"] for r in rows] == [seed + 1, seed + 2] and [r["proxy"] for r in rows] == ["smoke", "smoke"]
    assert all(r["status"] == "ok" and 0.0 <= r["ap"] <= 1.0 for r in rows)
    assert out.splitlines()[0] == "trial t0 retrained on proxy 'smoke':"
    assert "search AP 50.0 | retrained AP" in out and "2 seeds)" in out  # AP in percent, one decimal


@pytest.mark.parametrize(
    ("argv", "match"),
    [
        (["retrain", "nowhere:best"], "does not exist"),
        (["retrain", "{run}:zz"], "no trial 'zz'"),
        (["retrain", "{run}:t0", "--seeds", "0"], "at least 1"),
        (["retrain", "{run}"], "not RUN:TRIAL"),
    ],
)
def test_bad_input_is_one_line(run_dir, capsys, argv, match):
    assert main([a.format(run=run_dir) for a in argv]) == 2
    err = capsys.readouterr().err
    assert match in err and err.count("\n") == 1
