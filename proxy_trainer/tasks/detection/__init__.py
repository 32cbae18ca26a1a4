"""The detection task: RetinaNet around the backbone, COCO box AP on the held-out split.

Its model, data and evaluation live in `proxy_trainer/modeling/detector.py`,
`proxy_trainer/data/images.py` and `proxy_trainer/evaluate.py` (they predate the task seam);
`runner.py` puts them behind the `TaskRunner` interface. Its metric names are COCOeval's first
six statistics, which are also the results store's per-metric columns (search_space/trial_result.py).
"""

from search_space.trial_result import DETECTION_METRICS, DETECTION_REWARD, TaskMetrics

METRICS = TaskMetrics(
    task="detection",
    names=DETECTION_METRICS,
    reward=DETECTION_REWARD,
    labels={"ap": "AP", "ap50": "AP50", "ap75": "AP75", "aps": "APs", "apm": "APm", "apl": "APl"},
)
