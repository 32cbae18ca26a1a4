"""The trial-result type: statuses and which fail, the flat form and back, the reward metric's
key in every flat form, per-epoch results marked not final."""

from search_space.trial_result import DETECTION_METRICS, EpochReport, TrialResult, TrialStatus


def test_failed_statuses():
    assert {s.value for s in TrialStatus if s.failed} == {"nan_loss", "oom", "error"}
    assert not TrialStatus.OK.failed and not TrialStatus.STOPPED.failed


def test_flat_and_back():
    result = TrialResult(TrialStatus.OK, metrics=dict.fromkeys(DETECTION_METRICS, 0.25), params=5, flops=7,
                         train_seconds=1.5, images_per_second=3.0, epochs_done=2, loss=0.5, data={"val_images": 4})
    flat = result.flat()
    assert flat["status"] == "ok" and flat["ap"] == 0.25 and flat["val_images"] == 4
    assert TrialResult.from_flat(flat) == TrialResult(**{**result.__dict__, "data": {}})


def test_a_failure_still_names_the_reward_metric():
    flat = TrialResult.failure(TrialStatus.OOM, "x" * 3000).flat()
    assert flat["ap"] is None and flat["status"] == "oom" and len(flat["error"]) == 2000


def test_an_epoch_report_is_not_final():
    result = TrialResult.of_epoch(EpochReport(3, 0.7, {"ap": 0.1}))
    assert (result.final, result.epochs_done, result.score, result.loss) == (False, 3, 0.1, 0.7)
    assert TrialResult(TrialStatus.OK, metrics={"ap": float("nan")}).score is None
