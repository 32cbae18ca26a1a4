"""The classification task: the paper's classifier head on the backbone (aggregation 'all',
`model.py`), the label of an image is the category of its largest object (`data.py`), and the
reward is top-1 accuracy on the held-out split (`evaluate.py`); `runner.py` joins them."""

from search_space.trial_result import TaskMetrics

METRICS = TaskMetrics(
    task="classification",
    names=("top1", "top5"),
    reward="top1",
    labels={"top1": "top-1", "top5": "top-5"},
)
