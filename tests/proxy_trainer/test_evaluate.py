"""COCOeval reward: perfect detections score 1.0, none score 0.0, ranges without ground truth
are None (COCOeval's -1), crowd boxes are kept for COCOeval, boxes map back to image pixels."""

from __future__ import annotations

import pytest
import torch

from proxy_trainer.data.coco import load_coco
from proxy_trainer.data.images import DetectionDataset
from proxy_trainer.evaluate import (
    DETECTION_METRICS,
    area_ranges_text,
    area_thresholds,
    coco_metrics,
    ground_truth,
    to_coco_results,
)
from tests.proxy_trainer.coco_fixtures import write_tiny_coco


@pytest.fixture
def tiny(tmp_path):
    return load_coco(*write_tiny_coco(tmp_path))


def _perfect(data) -> list[dict]:
    return [
        {"image_id": r.image_id, "category_id": c, "bbox": list(b), "score": 0.9}
        for r in data.images for b, c, crowd in zip(r.boxes, r.category_ids, r.crowd) if not crowd
    ]


def test_ground_truth_keeps_crowd_and_renumbers(tiny):
    gt = ground_truth(tiny)
    anns = gt.dataset["annotations"]
    assert [a["id"] for a in anns] == [1, 2, 3, 4, 5]
    assert [a["iscrowd"] for a in anns] == [0, 0, 0, 1, 0]
    assert sorted(gt.getCatIds()) == [3, 17, 90] and len(gt.getImgIds()) == 4


def test_perfect_detections_score_one(tiny):
    metrics = coco_metrics(ground_truth(tiny), _perfect(tiny))
    # all boxes are COCO "small" (area < 32^2): medium/large have no ground truth -> None
    assert metrics == {"ap": 1.0, "ap50": 1.0, "ap75": 1.0, "aps": 1.0, "apm": None, "apl": None}


def test_no_detections_score_zero_not_an_error(tiny):
    metrics = coco_metrics(ground_truth(tiny), [])
    assert metrics == {"ap": 0.0, "ap50": 0.0, "ap75": 0.0, "aps": 0.0, "apm": None, "apl": None}


def test_wrong_category_scores_zero(tiny):
    swap = {3: 17, 17: 90, 90: 3}
    wrong = [{**d, "category_id": swap[d["category_id"]]} for d in _perfect(tiny)]
    assert coco_metrics(ground_truth(tiny), wrong)["ap"] == 0.0


def test_detection_on_crowd_box_is_not_a_false_positive(tiny):
    on_crowd = {"image_id": 11, "category_id": 3, "bbox": [0.0, 0.0, 40.0, 40.0], "score": 0.95}
    assert coco_metrics(ground_truth(tiny), [*_perfect(tiny), on_crowd])["ap"] == 1.0


def test_detector_outputs_map_back_to_image_pixels(tiny):
    dataset = DetectionDataset(tiny, image_size=32)  # 64x48 images at scale 0.5
    results = []
    for index in range(len(dataset)):
        _, target, meta = dataset[index]
        output = {"boxes": target["boxes"], "labels": target["labels"], "scores": torch.full((len(target["labels"]),), 0.5)}
        results.extend(to_coco_results(output, meta, tiny.category_of()))
    assert results[0] == {"image_id": 10, "category_id": 3, "bbox": [4.0, 4.0, 20.0, 10.0], "score": 0.5}
    metrics = coco_metrics(ground_truth(tiny), results)
    assert [metrics[k] for k in DETECTION_METRICS[:4]] == [1.0, 1.0, 1.0, 1.0]


def test_relative_area_ranges_scale_cocos_thresholds_to_the_image(tiny):
    gt = ground_truth(tiny)
    assert area_thresholds(gt, "absolute") == (32**2, 96**2)
    small, medium = area_thresholds(gt, "relative")  # 64-px images: x (64 / 640)
    assert (round(small, 6), round(medium, 6)) == (10.24, 92.16)
    assert area_ranges_text(gt, "relative") == "small < 3.2^2 px, medium < 9.6^2 px, large above (relative)"
    # every box (144..400 px^2) is small at COCO's absolute thresholds and large relative to 64 px
    metrics = coco_metrics(gt, _perfect(tiny), "relative")
    assert metrics == {"ap": 1.0, "ap50": 1.0, "ap75": 1.0, "aps": None, "apm": None, "apl": 1.0}
    assert coco_metrics(gt, [], "relative") == {"ap": 0.0, "ap50": 0.0, "ap75": 0.0, "aps": None, "apm": None, "apl": 0.0}
