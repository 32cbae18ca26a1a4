"""Predictor-guided search (`nas search predictor=...`) in replay mode (no Ray, no training): the
predicted best of K proposals is trained, the others are stored as screened with their predicted
reward, the controller is fed only the trained ones, and a resumed search rebuilds the predictor
from the store and continues exactly as an uninterrupted one."""

import pytest

from nas.cli import main
from nas.config import ConfigError, SearchConfig, compose_config
from nas.replay import answer, load_record
from nas.search import run_search
from nas.searcher import SearchRuntime
from nas.store import ResultsStore
from search_space.serialize import spec_to_dict

pytestmark = pytest.mark.usefixtures("one_thread")
SCREEN = ["predictor=forest", "predictor.candidates=4", "predictor.warmup=3"]


@pytest.fixture(scope="module")
def record(tmp_path_factory):
    """A finished run of 24 random specs whose reward is their share of bottleneck blocks."""
    folder = tmp_path_factory.mktemp("record")
    plain = compose_config([f"run.dir={folder}", "proxy=smoke"])
    space = SearchConfig.from_dict(plain).space.build()
    store = ResultsStore(str(folder / "search.db"))
    store.set_meta("config", plain)
    for k in range(24):
        spec = space.decode(space.sample(seed=5, k=k), name=f"rec-{k}")
        reward = sum(b.block_fn == "bottleneck" for b in spec.blocks) / len(spec.blocks)
        store.commit_trial({"trial_id": f"rec{k}", "proposal_index": k, "decisions": list(space.encode(spec)),
                            "spec": spec_to_dict(spec), "status": "ok", "reward": reward, "ap": reward, "flops": 100})
    store.close()
    return folder


def replay(record, run_dir, *extra):
    return SearchConfig.from_dict(compose_config(
        ["proxy=replay", f"replay.from={record}", f"run.dir={run_dir}", "controller=evolution", "seed=0", *extra]))


def stored(cfg):
    with ResultsStore.open_readonly(cfg.db_path) as store:
        return store.trials(), store.screened(), {p["trial_id"]: p for p in map(store.proposal, [
            r["trial_id"] for r in store.trials()])}


def test_screen_trains_the_predicted_best_and_stores_the_others(record, tmp_path, capsys):
    cfg = replay(record, tmp_path / "run", "trials=8", *SCREEN)
    run_search(cfg)
    rows, screened, proposals = stored(cfg)
    assert len(rows) == 8 and len(screened) == (8 - 3) * 3  # warmup 3, then 3 set aside per trial
    indexes = [r["proposal_index"] for r in rows] + [s["proposal_index"] for s in screened]
    assert sorted(indexes) == list(range(8 + 15))  # every proposal index used once, no gap
    by_trial = {}
    for entry in screened:
        by_trial.setdefault(entry["chosen_trial_id"], []).append(entry)
    assert set(by_trial) == {r["trial_id"] for r in rows[3:]}
    for trial_id, siblings in by_trial.items():
        meta = proposals[trial_id]["meta"]["screen"]
        assert meta["candidates"] == 4 and sorted(meta["screened"]) == sorted(s["proposal_index"] for s in siblings)
        assert all(meta["predicted"] >= s["predicted"] for s in siblings)
    assert [proposals[r["trial_id"]]["meta"]["screen"] for r in rows[:3]] == [{"candidates": 1}] * 3
    line = "predictor: forest screen, best of 4 proposals trained after 3 rows; 15 proposals screened out"
    assert line in capsys.readouterr().out  # the closing report
    assert main(["show", str(tmp_path / "run")]) == 0 and line in capsys.readouterr().out


def test_the_controller_is_fed_only_trained_proposals(record, tmp_path):
    cfg = replay(record, tmp_path / "run", "trials=7", *SCREEN)
    run_search(cfg)
    runtime = SearchRuntime(cfg)  # rebuilt from the store, as a resume does
    try:
        assert runtime.controller.num_feedbacks == 7 and len(runtime.controller.observed) == 7
        population = runtime.controller.inner.population  # evolution: trained rows only
        assert len(population) == 7
        assert runtime.controller.next_index == 7 + 4 * 3  # screened indexes are never reused
    finally:
        runtime.store.close()


def test_resume_rebuilds_the_predictor_and_continues_as_uninterrupted(record, tmp_path):
    whole = replay(record, tmp_path / "whole", "trials=9", *SCREEN)
    run_search(whole)
    cut = replay(record, tmp_path / "cut", "trials=9", *SCREEN)
    runtime = SearchRuntime(cut)  # a search stopped after six trials, a seventh handed out
    runtime.store.set_meta("config", cut.plain)
    source = load_record(cut)
    for n in range(6):
        runtime.suggest(f"t{n}")
        runtime.complete(f"t{n}", answer(source, runtime.live[f"t{n}"].decisions), error=False)
    runtime.suggest("killed")
    runtime.store.close()
    run_search(cut, resuming=True)
    rows, screened, _ = stored(cut)
    rows_whole, screened_whole, _ = stored(whole)
    assert [(r["proposal_index"], r["decisions"]) for r in rows] == \
        [(r["proposal_index"], r["decisions"]) for r in rows_whole]
    assert [(s["proposal_index"], s["decisions"], s["predicted"]) for s in screened] == \
        [(s["proposal_index"], s["decisions"], s["predicted"]) for s in screened_whole]


def test_bad_predictor_options_are_one_config_error(tmp_path):
    with pytest.raises(ConfigError, match=r"predictor: screen candidates=0; use an integer >= 1"):
        SearchConfig.from_dict(compose_config([f"run.dir={tmp_path}", "predictor=gp", "predictor.candidates=0"]))
    with pytest.raises(ConfigError, match=r"unknown screen option\(s\) \['k'\]"):
        SearchConfig.from_dict(compose_config([f"run.dir={tmp_path}", "predictor=gp", "+predictor.k=3"]))
    assert SearchConfig.from_dict(compose_config([f"run.dir={tmp_path}"])).predictor is None
