"""Replay of a classification run: the replayed rows get the recorded top-1 as reward (not a
failure penalty for a missing AP); replaying it as a detection search is refused with one line
that says which task and reward to add."""

import pytest

from controller import build_controller
from nas.config import ConfigError, SearchConfig, compose_config
from nas.replay import answer
from nas.search import run_search
from nas.store import ResultsStore
from search_space.serialize import spec_to_dict


def classification_record(folder) -> list:
    """A finished classification run's store: random(seed 0)'s first 3 proposals with top-1 0.3..0.5."""
    plain = compose_config([f"run.dir={folder}", "task=classification", "proxy=smoke"])
    space = SearchConfig.from_dict(plain).space.build()
    controller = build_controller("random", space, seed=0)
    decisions = [controller.propose().decisions for _ in range(3)]
    store = ResultsStore(str(folder / "search.db"))
    store.set_meta("config", plain)
    for k, dec in enumerate(decisions):
        top1 = 0.3 + 0.1 * k
        store.commit_trial({"trial_id": f"rec{k}", "proposal_index": k, "decisions": list(dec),
                            "spec": spec_to_dict(space.decode(dec, name=f"rec-{k}")), "status": "ok",
                            "reward": top1, "metrics": {"top1": top1, "top5": None}, "flops": 100 + k})
    store.close()
    return decisions


def replay_overrides(source, run_dir, *extra) -> list[str]:
    return ["proxy=replay", f"replay.from={source}", f"run.dir={run_dir}", "controller=random", "seed=0",
            "trials=3", *extra]


def test_replayed_classification_rows_get_the_recorded_top1(tmp_path):
    (tmp_path / "src").mkdir()
    classification_record(tmp_path / "src")
    overrides = replay_overrides(tmp_path / "src", tmp_path / "replayed", "task=classification")
    run_search(SearchConfig.from_dict(compose_config(overrides)))
    with ResultsStore.open_readonly(str(tmp_path / "replayed" / "search.db")) as store:
        rows = store.trials()
    assert [r["replay"] for r in rows] == ["hit:rec0", "hit:rec1", "hit:rec2"]  # the same seeded proposals
    assert [r["reward"] for r in rows] == pytest.approx([0.3, 0.4, 0.5])
    assert [r["metrics"]["top1"] for r in rows] == pytest.approx([0.3, 0.4, 0.5])


def test_replaying_a_classification_run_as_detection_is_refused(tmp_path):
    (tmp_path / "src").mkdir()
    classification_record(tmp_path / "src")
    cfg = SearchConfig.from_dict(compose_config(replay_overrides(tmp_path / "src", tmp_path / "replayed")))
    with pytest.raises(ConfigError, match=r"^replay.from run is task classification with reward top1, this search "
                                          r"task detection with reward ap; add task=classification "
                                          r"task.reward_metric=top1$"):
        run_search(cfg)


def test_answer_reads_the_named_reward_metric():
    record = [{"trial_id": "a", "decisions": [0, 1], "status": "ok", "metrics": {"top1": 0.7, "top5": 0.9}}]
    report = answer(record, (0, 1), "top1")
    assert report["top1"] == 0.7 and report["top5"] == 0.9 and report["replay"] == "hit:a"
