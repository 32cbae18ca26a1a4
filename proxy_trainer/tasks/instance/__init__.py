"""The instance segmentation task: torchvision Mask R-CNN around the backbone
(`proxy_trainer/modeling/two_stage.py`), trained on boxes and masks (`data.py`), scored by COCO
box AP and mask AP of pycocotools on the held-out split (`evaluate.py`); `runner.py` joins them.

Its metrics are COCOeval's first six statistics twice: box (`ap` .. `apl`, the names detection
uses, so they also fill the results store's per-metric columns) and mask (`mask_ap` ..
`mask_apl`). The reward is mask AP.
"""

from proxy_trainer.tasks.detection import METRICS as DETECTION
from search_space.trial_result import DETECTION_METRICS, TaskMetrics

MASK_PREFIX = "mask_"
MASK_METRICS = tuple(MASK_PREFIX + name for name in DETECTION_METRICS)

METRICS = TaskMetrics(
    task="instance",
    names=(*DETECTION_METRICS, *MASK_METRICS),
    reward="mask_ap",
    labels={**{name: f"box {DETECTION.label(name)}" for name in DETECTION_METRICS},
            **{MASK_PREFIX + name: f"mask {DETECTION.label(name)}" for name in DETECTION_METRICS}},
)
