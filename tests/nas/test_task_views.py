"""The views of a run of another task than detection: `show`, `plot`, `report`, `compare`, the
search's progress line and closing report, `nas train`'s epoch lines and `nas retrain` label the
run's reward metric by its task ("top-1") and carry its metrics under their names (top1, top5),
on a classification run fabricated with the store's own write API."""

import json

import pytest

from nas.commands.train import epoch_line
from nas.config import SearchConfig, compose_config
from nas.progress import closing_text, progress_line
from nas.run_task import RunTask
from nas.store import ResultsStore
from search_space import BUILTIN_SPECS
from search_space.serialize import spec_to_dict
from search_space.trial_result import EpochReport

from .conftest import TINY
from .test_show_and_run_views import TRIALS, cli, make_run, svg_ids, trial_row

CLASSIFICATION = {"name": "classification", "reward_metric": "top1", "options": {}}
# (trial id, status, reward, top1, top5, GMACs[, spec]): c1 best; c3 trains the seed architecture r50-sd
CLS_TRIALS = [("c0", "ok", 0.40, 0.40, 0.80, 4.0), ("c1", "ok", 0.55, 0.55, 0.90, 6.0),
              ("c2", "nan_loss", 0.0, None, None, None),
              ("c3", "ok", 0.432, 0.432, None, 5.0, BUILTIN_SPECS["r50-sd"])]


def cls_row(k, trial_id, status, reward, top1, top5, gmacs, spec=None):
    """A classification trial row: detection's columns empty, its metrics in the `metrics` JSON."""
    row = trial_row(k, trial_id, status, reward, None, gmacs, spec)
    return {**row, "metrics": {"top1": top1, "top5": top5}}


def make_cls_run(folder, name, trials=CLS_TRIALS):
    store = ResultsStore(str(folder / "search.db"))
    store.set_meta("config", {"trials": 8, "controller": {"name": "evolution", "options": {"seed_arch": "r50-sd"}},
                              "run": {"name": name}, "space": {"seed": "resnet50", "overrides": {}},
                              "task": CLASSIFICATION})
    for k, trial in enumerate(trials):
        assert store.commit_trial(cls_row(k, *trial))
    store.close()
    return folder


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Two detection runs (stored before tasks: no task in their config)."""
    root = tmp_path_factory.mktemp("det")
    make_run(root / "evo", "evo6", "evolution", TRIALS).close()
    make_run(root / "rnd", "evo2", "random", TRIALS[:2]).close()
    return root


@pytest.fixture(scope="module")
def cls_runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("cls")
    make_cls_run(root / "a", "cls4")
    make_cls_run(root / "b", "cls2", CLS_TRIALS[:1] + CLS_TRIALS[2:3])
    return root


# ---- show ------------------------------------------------------------------------------------
def test_show_text_labels_the_task(capsys, cls_runs):
    code, out, err = cli(capsys, "show", cls_runs / "a")
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert "best: 55.0 top-1 (trial c1)" in lines
    table = lines[lines.index("") + 1:]
    assert table[0].split() == ["rank", "trial", "status", "top-1", "top-5", "GMACs", "params(M)", "seconds"]
    assert [row.split() for row in table[1:]] == [
        ["1", "c1", "ok", "55.0", "90.0", "6.000", "1.000", "61"],
        ["2", "c3", "ok", "43.2", "-", "5.000", "1.000", "63"],
        ["3", "c0", "ok", "40.0", "80.0", "4.000", "1.000", "60"],
        ["4", "c2", "nan_loss", "-", "-", "-", "1.000", "62"]]


def test_show_json_carries_the_task_metrics(capsys, cls_runs):
    data = json.loads(cli(capsys, "show", cls_runs / "a", "--json")[1])
    assert data["leaderboard"][0] == {
        "rank": 1, "trial_id": "c1", "status": "ok", "reward": 0.55, "top1": 0.55, "top5": 0.9,
        "flops": 6_000_000_000, "params": 1_000_001, "train_seconds": 61.0, "flops_before_pruning": False}
    s = data["summary"]
    assert (s["task"], s["reward_metric"], s["best_metric"], s["best_trial"], s["best_ap"]) == \
        ("classification", "top1", 0.55, "c1", None)
    assert s["baseline"] == {"label": "r50-sd (trial c3)", "top1": 0.432, "flops": 5_000_000_000, "trial_id": "c3"}


def test_show_json_of_a_detection_run_names_its_task(capsys, runs):
    s = json.loads(cli(capsys, "show", runs / "evo", "--json")[1])["summary"]
    assert (s["task"], s["reward_metric"], s["best_metric"], s["best_ap"]) == ("detection", "ap", 0.3, 0.3)


# ---- plot, report ----------------------------------------------------------------------------
def test_plot_names_the_figure_and_axes_by_the_reward_metric(capsys, cls_runs, tmp_path):
    code, out, _ = cli(capsys, "plot", cls_runs / "a", "-o", tmp_path)
    assert code == 0 and out.count("wrote ") == 4
    assert sorted(p.name for p in tmp_path.iterdir()) == ["reward.png", "reward.svg", "top1_vs_flops.png",
                                                          "top1_vs_flops.svg"]
    pareto = (tmp_path / "top1_vs_flops.svg").read_text()
    assert "top-1 (%, held-out split)" in pareto and "cls4: top-1 vs FLOPs" in pareto and " AP" not in pareto
    assert {"trial-points", "pareto-front", "baseline"} <= svg_ids(pareto)
    assert "seed baseline (r50-sd (trial c3))" in pareto and "Pareto front (3)" in pareto
    assert "reward (held-out top-1, 0-1)" in (tmp_path / "reward.svg").read_text()


def test_detection_axes_keep_their_labels(capsys, runs, tmp_path):
    assert cli(capsys, "plot", runs / "evo", "-o", tmp_path)[0] == 0
    assert "AP (%, held-out split)" in (tmp_path / "ap_vs_flops.svg").read_text()
    assert "reward (held-out AP, 0-1)" in (tmp_path / "reward.svg").read_text()


def test_report_labels_columns_by_the_task(capsys, cls_runs, tmp_path):
    assert cli(capsys, "report", cls_runs / "a", "-o", tmp_path / "r.html", "--top", "1")[0] == 0
    text = (tmp_path / "r.html").read_text()
    assert "<th>top-1</th><th>top-5</th><th>GMACs</th>" in text and "<th>AP</th>" not in text
    assert "<li>best: 55.0 top-1 (trial c1)</li>" in text
    assert "<tr><td>1</td><td class=text>c1</td><td class=text>ok</td><td>55.0</td><td>90.0</td>" in text


# ---- compare ---------------------------------------------------------------------------------
def test_compare_labels_the_reward_metric(capsys, cls_runs, tmp_path):
    code, out, _ = cli(capsys, "compare", cls_runs / "a", cls_runs / "b", "--json", "-o", tmp_path / "c.svg")
    assert code == 0
    rows = json.loads(out[: out.rindex("]") + 1])
    assert rows == [
        {"run": "cls4", "controller": "evolution", "trials_done": 4, "failed": 1, "best_top1": 0.55, "best_trial": "c1"},
        {"run": "cls2", "controller": "evolution", "trials_done": 2, "failed": 1, "best_top1": 0.4, "best_trial": "c0"}]
    assert "best reward so far (held-out top-1, 0-1)" in (tmp_path / "c.svg").read_text()
    lines = cli(capsys, "compare", cls_runs / "a", cls_runs / "b")[1].splitlines()
    assert lines[0].split() == ["run", "controller", "trials", "failed", "best", "top-1", "best", "trial"]
    assert lines[1].split() == ["cls4", "evolution", "4", "1", "55.0", "c1"]


def test_compare_refuses_runs_of_different_reward_metrics(capsys, runs, cls_runs, tmp_path):
    code, out, err = cli(capsys, "compare", runs / "evo", cls_runs / "a", runs / "rnd", "-o", tmp_path / "c.svg")
    assert (code, out) == (2, "")
    assert err == (f"nas compare: error: cannot compare runs with different reward metrics (detection AP: "
                   f"{runs / 'evo'}, {runs / 'rnd'}; classification top-1: {cls_runs / 'a'}); compare the runs of "
                   "one reward metric at a time\n")
    assert not (tmp_path / "c.svg").exists()


# ---- the search's progress line and closing report -------------------------------------------
CLS_SUMMARY = {"trials": 2, "requested": 4, "statuses": {"ok": 2}, "failed": 0, "best_trial": "c1",
               "best_reward": 0.432, "best_ap": None, "reward_metric": "top1", "best_metric": 0.432,
               "config": {"task": CLASSIFICATION}}


def test_progress_line_labels_the_reward_metric():
    assert progress_line(CLS_SUMMARY, 4, 1, 10.0, 2) == \
        "[2/4] running 1 | failed 0 | best top-1 43.2 (c1) | elapsed 0:10 | ETA 0:10"
    assert progress_line({**CLS_SUMMARY, "best_trial": None}, 4, 0, 0.0, 0) == \
        "[2/4] running 0 | failed 0 | best top-1 - | elapsed 0:00 | ETA -"


def test_closing_text_uses_the_task_columns():
    rows = [cls_row(0, "c1", "ok", 0.432, 0.432, 0.9, 2.0)]
    lines = closing_text("RUN", CLS_SUMMARY, rows, {}).splitlines()
    assert lines[0] == "search stopped at 2 of 4 trials (ok 2); continue with: nas search resume=RUN"
    assert lines[1].split() == ["rank", "trial", "status", "reward", "top-1", "top-5", "GMACs", "params(M)",
                                "seconds"]
    assert lines[2].split() == ["1", "c1", "ok", "0.4320", "43.2", "90.0", "2.000", "1.000", "60"]


# ---- nas train and nas retrain ---------------------------------------------------------------
def test_epoch_lines_label_the_task_metrics():
    report = EpochReport(1, 0.1234, {"top1": 0.4, "top5": None})
    assert epoch_line(report, RunTask.of_config({"task": CLASSIFICATION})) == "epoch 1: loss 0.1234  top-1 40.0  top-5 -"
    detection = EpochReport(1, 0.1234, {"ap": 0.123, "ap50": 0.456, "ap75": 0.2})
    assert epoch_line(detection, RunTask.of_config({})) == "epoch 1: loss 0.1234  AP 12.3  AP50 45.6"


def test_train_classification_end_to_end(capsys, tmp_path):
    code, out, err = cli(capsys, "train", "spinenet-49", "task=classification", "proxy=smoke", "proxy.epochs=1",
                         "data.synth_images=48", "data.synth_size=64", "data.heldout_images=16",
                         f"data.cache_dir={tmp_path}")
    assert code == 0, err
    result = json.loads(out.strip().splitlines()[-1])
    assert result["status"] == "ok" and 0.0 <= result["top1"] <= 1.0 and "top5" in result and "ap" not in result
    assert "epoch 1: loss " in err and "  top-1 " in err and "  top-5 " in err and " AP " not in err


@pytest.fixture
def cls_search_run(tmp_path):
    plain = compose_config([f"run.dir={tmp_path}", f"data.cache_dir={tmp_path / 'cache'}", "task=classification",
                            *TINY])
    space = SearchConfig.from_dict(plain).space.build()
    decisions = space.sample(seed=3, k=0)
    store = ResultsStore(str(tmp_path / "search.db"))
    store.set_meta("config", plain)
    assert store.commit_trial({"trial_id": "t0", "proposal_index": 0, "decisions": list(decisions), "status": "ok",
                               "spec": spec_to_dict(space.decode(decisions, name="cand")), "reward": 0.5,
                               "metrics": {"top1": 0.5, "top5": None}})
    store.close()
    return tmp_path


def test_retrain_uses_the_run_task_and_labels_its_metric(capsys, cls_search_run):
    code, out, err = cli(capsys, "retrain", f"{cls_search_run}:best", "--seeds", "1")
    assert code == 0, err
    with ResultsStore.open_readonly(str(cls_search_run / "search.db")) as store:
        (row,) = store.retrains("t0")
    top1 = row["result"]["top1"]
    assert row["status"] == "ok" and 0.0 <= top1 <= 1.0 and "ap" not in row["result"]
    lines = out.splitlines()
    assert lines[1] == f"  seed {row['seed']}: top-1 {100 * top1:.1f} (ok)"
    assert lines[2] == (f"search top-1 50.0 | retrained top-1 {100 * top1:.1f} ± 0.0 "
                        f"(min {100 * top1:.1f}, max {100 * top1:.1f}, 1 seeds)")


def test_retrain_refuses_another_task(capsys, cls_search_run):
    code, out, err = cli(capsys, "retrain", f"{cls_search_run}:best", "task=detection")
    assert (code, out) == (2, "")
    assert err == ("nas retrain: error: task=detection: nas retrain trains with the run's own task (classification); "
                   "leave out the task override\n")
