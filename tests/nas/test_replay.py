"""Replay mode: a controller searches against a finished run's recorded rewards; recorded
proposals are hits with the recorded reward, others get the nearest recorded trial's reward and
are marked as fallbacks; the hit rate is stored and printed. No training, no Ray."""

import pytest

from controller import build_controller
from nas.config import ConfigError, SearchConfig, compose_config
from nas.replay import answer, hamming
from nas.search import run_search
from nas.store import ResultsStore
from search_space.serialize import spec_to_dict


def record_run(folder, space_seed="resnet50"):
    """A finished run's store: rows for random(seed 0)'s first 3 proposals and 2 other samples."""
    plain = compose_config([f"run.dir={folder}", "proxy=smoke", f"space={space_seed}"])
    space = SearchConfig.from_dict(plain).space.build()
    controller = build_controller("random", space, seed=0)
    decisions = [controller.propose().decisions for _ in range(3)] + [space.sample(seed=99, k=k) for k in range(2)]
    store = ResultsStore(str(folder / "search.db"))
    store.set_meta("config", plain)
    for k, dec in enumerate(decisions):
        spec = spec_to_dict(space.decode(dec, name=f"rec-{k}"))
        store.commit_trial(
            {
                "trial_id": f"rec{k}",
                "proposal_index": k,
                "decisions": list(dec),
                "spec": spec,
                "status": "ok",
                "reward": 0.1 * (k + 1),
                "ap": 0.1 * (k + 1),
                "flops": 100 + k,
            }
        )
    store.close()
    return decisions


def replay_config(source, run_dir, *extra):
    return SearchConfig.from_dict(
        compose_config(
            ["proxy=replay", f"replay.from={source}", f"run.dir={run_dir}", "controller=random", "seed=0", *extra]
        )
    )


def test_answer_is_hit_or_nearest_recorded_trial():
    record = [
        {"trial_id": "a", "decisions": [0, 0, 0], "status": "ok", "ap": 0.1},
        {"trial_id": "b", "decisions": [1, 1, 0], "status": "ok", "ap": 0.2},
    ]
    assert answer(record, (1, 1, 0))["replay"] == "hit:b" and answer(record, (1, 1, 0))["ap"] == 0.2
    assert answer(record, (1, 0, 0))["replay"] == "fallback:a:d=1"  # tie at distance 1: earliest recorded
    assert answer(record, (1, 1, 1))["replay"] == "fallback:b:d=1" and hamming([0, 1], [1, 1, 2]) == 2


def test_replay_search_reports_hits_and_fallbacks(tmp_path, capsys):
    (tmp_path / "src").mkdir()
    recorded = record_run(tmp_path / "src")
    cfg = replay_config(tmp_path / "src", tmp_path / "dst", "trials=6")
    assert cfg.is_replay
    summary = run_search(cfg)
    with ResultsStore.open_readonly(cfg.db_path) as store:
        rows = store.trials()
        stats = store.meta("replay")
    assert len(rows) == 6
    assert [r["replay"] for r in rows[:3]] == ["hit:rec0", "hit:rec1", "hit:rec2"]
    assert [r["reward"] for r in rows[:3]] == pytest.approx([0.1, 0.2, 0.3])
    for row in rows[3:]:
        tag, trial, dist = row["replay"].split(":")
        nearest = min(range(5), key=lambda k: hamming(recorded[k], row["decisions"]))
        assert (tag, trial, dist) == ("fallback", f"rec{nearest}", f"d={hamming(recorded[nearest], row['decisions'])}")
        assert row["reward"] == pytest.approx(0.1 * (nearest + 1))
    assert (stats["hits"], stats["fallbacks"], stats["hit_rate"]) == (3, 3, 0.5)
    assert summary["replay"]["hits"] == 3
    assert "replay: 3 hits, 3 fallbacks, hit rate 50%" in capsys.readouterr().out


def test_replay_refuses_other_space_and_missing_run(tmp_path):
    (tmp_path / "src").mkdir()
    record_run(tmp_path / "src", space_seed="r23-sp30")
    with pytest.raises(ConfigError, match="same space"):
        run_search(replay_config(tmp_path / "src", tmp_path / "dst"))
    with pytest.raises(ConfigError, match="has no search.db"):
        run_search(replay_config(tmp_path / "nowhere", tmp_path / "dst2"))


def test_a_replay_stopped_with_a_proposal_in_flight_resumes_to_its_count(tmp_path, capsys):
    from nas.searcher import SearchRuntime

    record_run(tmp_path / "rec")
    cfg = replay_config(tmp_path / "rec", tmp_path / "replay", "trials=4")
    run_search(cfg)
    capsys.readouterr()
    resumed = replay_config(tmp_path / "rec", tmp_path / "again", "trials=4")
    runtime = SearchRuntime(resumed)  # a replay killed after handing out proposal 0, before storing it
    runtime.store.set_meta("config", resumed.plain)
    runtime.suggest("replay-killed")
    runtime.store.close()
    summary = run_search(resumed, resuming=True)
    with ResultsStore.open_readonly(resumed.db_path) as store:
        rows, pending = store.trials(), store.pending_proposals()
    with ResultsStore.open_readonly(cfg.db_path) as store:
        uninterrupted = store.trials()
    assert summary["trials"] == 4 and pending == [] and sorted(r["proposal_index"] for r in rows) == [0, 1, 2, 3]
    assert [r["decisions"] for r in rows] == [r["decisions"] for r in uninterrupted]
