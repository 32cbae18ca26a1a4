"""The reward: COCO box AP of a detector on the held-out set, computed by pycocotools COCOeval.

`ground_truth` turns a `DataSet` into a pycocotools index (crowd boxes kept: COCOeval ignores
matches to them); `predict` runs the detector and maps boxes back to each image's own pixels
and the file's category ids; `coco_metrics` scores them. No detections at all gives AP 0.0
(`COCO.loadRes([])` raises); an area range without ground truth (COCOeval's -1) is None.
"""

from __future__ import annotations

import contextlib
import io

import torch
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval, Params

from proxy_trainer.data.coco import index_coco
from proxy_trainer.data.records import DataSet

METRIC_KEYS = ("ap", "ap50", "ap75", "aps", "apm", "apl")  # COCOeval.stats[0:6], in order
AREA_OF_KEY = {"ap": "all", "ap50": "all", "ap75": "all", "aps": "small", "apm": "medium", "apl": "large"}


def ground_truth(data: DataSet) -> COCO:
    """A pycocotools index of a data set's images and cleaned boxes (annotation ids 1..N)."""
    images, annotations = [], []
    for record in data.images:
        images.append({"id": record.image_id, "width": record.width, "height": record.height})
        for box, cat, crowd, area in zip(record.boxes, record.category_ids, record.crowd, record.areas):
            annotations.append({"id": len(annotations) + 1, "image_id": record.image_id, "category_id": cat,
                                "bbox": list(box), "area": area, "iscrowd": int(crowd)})
    categories = [{"id": c.category_id, "name": c.name} for c in data.categories]
    return index_coco({"images": images, "annotations": annotations, "categories": categories}, data.annotations_file)


def _has_ground_truth(gt: COCO, area_label: str) -> bool:
    params = Params(iouType="bbox")
    low, high = params.areaRng[params.areaRngLbl.index(area_label)]
    return any(not a["iscrowd"] and low <= a["area"] <= high for a in gt.dataset["annotations"])


def coco_metrics(gt: COCO, detections: list[dict]) -> dict[str, float | None]:
    """COCO box AP of detections against ground truth.

    Args:
        gt: pycocotools index of the ground truth (see `ground_truth`).
        detections: COCO result dicts (`image_id`, `category_id`, `bbox` [x, y, w, h], `score`).
    Returns:
        `ap, ap50, ap75, aps, apm, apl` as floats in [0, 1]; None where the range has no
        ground truth (COCOeval's -1); 0.0 for ranges with ground truth when there are no detections.
    """
    if not detections:
        return {k: 0.0 if _has_ground_truth(gt, AREA_OF_KEY[k]) else None for k in METRIC_KEYS}
    with contextlib.redirect_stdout(io.StringIO()):
        evaluator = COCOeval(gt, gt.loadRes(detections), iouType="bbox")
        evaluator.evaluate()
        evaluator.accumulate()
        evaluator.summarize()
    return {k: None if v < 0 else float(v) for k, v in zip(METRIC_KEYS, evaluator.stats[:6])}


def to_coco_results(output: dict[str, torch.Tensor], meta: dict, category_of: dict[int, int]) -> list[dict]:
    """One image's detector output as COCO result dicts in the image's own pixels."""
    boxes = output["boxes"].detach().float().cpu() / meta["scale"]  # [N, 4] xyxy, letterboxed -> original
    boxes[:, 2:] -= boxes[:, :2]  # xyxy -> xywh
    return [
        {"image_id": meta["image_id"], "category_id": category_of[int(label)],
         "bbox": [round(float(v), 2) for v in box], "score": round(float(score), 5)}
        for box, label, score in zip(boxes, output["labels"].tolist(), output["scores"].tolist())
    ]


@torch.no_grad()
def predict(model: torch.nn.Module, loader, data: DataSet, device: torch.device) -> list[dict]:
    """Run a detector in eval mode over a loader of (images, targets, metas) batches.

    Args:
        model: a torchvision detector. loader: yields `collate`d batches. data: the evaluated set.
        device: where the model lives.
    Returns:
        COCO result dicts of every image.
    """
    model.eval()
    category_of = data.category_of()
    results: list[dict] = []
    for images, _, metas in loader:
        outputs = model([img.to(device) for img in images])
        for output, meta in zip(outputs, metas):
            results.extend(to_coco_results(output, meta, category_of))
    return results
