"""The run-folder type and the shared pieces around it: the names a search keeps in a run folder,
the one check that a folder holds a search, the `RUN:TRIAL` syntax, the one ranking of trials and
the closing report's leaderboard (AP in percent, as in every human-readable output)."""

import os

import pytest

from nas.progress import closing_text, progress_line
from nas.ranking import ranked
from nas.run_folder import RunFolder, RunFolderError, RunTrial
from nas.store import ResultsStore
from search_space.errors import UserInputError


def test_run_folder_names_its_files(tmp_path):
    folder = RunFolder(str(tmp_path))
    assert (folder.store, folder.ray, folder.best_spec, folder.best_spec_tf, folder.lock_file) == tuple(
        os.path.join(tmp_path, name) for name in ("search.db", "ray", "best_spec.json", "best_spec_tf.txt", "search.lock")
    )


def test_existing_refuses_a_missing_folder_or_store(tmp_path):
    with pytest.raises(RunFolderError, match="does not exist; give the folder of a search run"):
        RunFolder.existing(str(tmp_path / "missing"))
    with pytest.raises(RunFolderError, match="has no search.db"):
        RunFolder.existing(str(tmp_path))
    ResultsStore(RunFolder(str(tmp_path)).store).close()
    assert RunFolder.existing(str(tmp_path)) == RunFolder(str(tmp_path))


@pytest.mark.parametrize(
    ("text", "found"),
    [("runs/a:best", ("runs/a", "best")), ("runs/a:1b2c", ("runs/a", "1b2c")), ("x:y:z", ("x:y", "z")),
     ("spinenet-49", None), ("runs/a:", None), (":best", None)],
)
def test_run_trial_syntax(text, found):
    parsed = RunTrial.find(text)
    assert (parsed and (parsed.run, parsed.trial)) == found
    if found is None:
        with pytest.raises(UserInputError, match="is not RUN:TRIAL"):
            RunTrial.parse(text)


def test_an_existing_file_is_not_a_run_trial(tmp_path):
    path = tmp_path / "spec:v2.json"
    path.write_text("{}")
    assert RunTrial.find(str(path)) is None


def test_ranking_best_first_ties_in_feedback_order_unrewarded_left_out():
    rows = [{"trial_id": t, "reward": r} for t, r in [("a", 0.1), ("b", None), ("c", 0.3), ("d", 0.1), ("e", 0.3)]]
    assert [r["trial_id"] for r in ranked(rows)] == ["c", "e", "a", "d"]
    assert [r["trial_id"] for r in ranked(rows, top=2)] == ["c", "e"]


def test_closing_report_and_progress_line_show_ap_in_percent():
    rows = [{"trial_id": "t1", "status": "ok", "reward": 0.4321, "ap": 0.4321, "ap50": 0.6, "flops": 2_000_000_000,
             "params": 1_500_000, "train_seconds": 61.0}]
    summary = {"trials": 1, "requested": 1, "statuses": {"ok": 1}, "failed": 0, "best_trial": "t1", "best_ap": 0.4321}
    lines = closing_text("RUN", summary, rows, {}).splitlines()
    assert lines[1].split() == ["rank", "trial", "status", "reward", "AP", "AP50", "GMACs", "params(M)", "seconds"]
    assert lines[2].split() == ["1", "t1", "ok", "0.4321", "43.2", "60.0", "2.000", "1.500", "61"]
    assert lines[3] == "run folder:  RUN  (search.db; inspect with: nas show RUN)"
    assert "best AP 43.2 (t1)" in progress_line(summary, 2, 0, 10.0, 1)
