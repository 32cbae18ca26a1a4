"""The reward: COCO box AP of a detector on the held-out set, computed by pycocotools COCOeval
(and mask AP, `iou_type="segm"`, for the instance task).

`ground_truth` turns a `DataSet` into a pycocotools index (crowd boxes kept: COCOeval ignores
matches to them; with `masks`, each object's mask as its `segmentation`); `predict` runs the
detector and maps boxes back to each image's own pixels and the file's category ids;
`coco_metrics` scores them. No detections at all gives AP 0.0
(`COCO.loadRes([])` raises); an area range without ground truth (COCOeval's -1) is None.

Area ranges (APs/APm/APl): `absolute` keeps COCOeval's thresholds, 32² and 96² pixels of the
original image (COCO's images are about 640 px on the longer side); `relative` scales both
thresholds by (reward image side / 640)², so that "small" means the same fraction of the image at
any size (at 128 px: below 6.4², medium to 19.2²).
"""

from __future__ import annotations

import contextlib
import io

import torch
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval, Params

from proxy_trainer.data.coco import index_coco
from proxy_trainer.data.masks import rle_dict
from proxy_trainer.data.records import DataSet
from search_space.trial_result import DETECTION_METRICS

AREA_OF_KEY = {"ap": "all", "ap50": "all", "ap75": "all", "aps": "small", "apm": "medium", "apl": "large"}
AREA_RANGES = ("absolute", "relative")
COCO_SIDE = 640  # the image side COCO's area thresholds refer to
SMALL_SIDE, MEDIUM_SIDE = 32, 96  # COCOeval: small < 32², medium < 96², large above
ALL_AREAS = 1e10  # COCOeval's upper bound of the "all" and "large" ranges


def ground_truth(data: DataSet, masks: bool = False) -> COCO:
    """A pycocotools index of a data set's images and cleaned boxes (annotation ids 1..N); with
    `masks` (a set loaded with them), each box's mask as its `segmentation` (for iou_type segm)."""
    images, annotations = [], []
    for record in data.images:
        images.append({"id": record.image_id, "width": record.width, "height": record.height})
        for index, (box, cat, crowd, area) in enumerate(zip(record.boxes, record.category_ids, record.crowd,
                                                            record.areas)):
            annotations.append({"id": len(annotations) + 1, "image_id": record.image_id, "category_id": cat,
                                "bbox": list(box), "area": area, "iscrowd": int(crowd)})
            if masks:
                annotations[-1]["segmentation"] = rle_dict(record.masks[index], record.height, record.width)
    categories = [{"id": c.category_id, "name": c.name} for c in data.categories]
    return index_coco({"images": images, "annotations": annotations, "categories": categories}, data.annotations_file)


def area_thresholds(gt: COCO, area_ranges: str = "absolute") -> tuple[float, float]:
    """(small below, large above), in pixels² of the reward images, for an `AREA_RANGES` mode."""
    scale = 1.0
    if area_ranges == "relative":
        scale = max(max(image["width"], image["height"]) for image in gt.dataset["images"]) / COCO_SIDE
    return (SMALL_SIDE * scale) ** 2, (MEDIUM_SIDE * scale) ** 2


def area_ranges_text(gt: COCO, area_ranges: str = "absolute") -> str:
    """The ranges in words, e.g. 'small < 6.4^2 px, medium < 19.2^2 px, large above (relative)'."""
    small, medium = area_thresholds(gt, area_ranges)
    return f"small < {small**0.5:.3g}^2 px, medium < {medium**0.5:.3g}^2 px, large above ({area_ranges})"


def _coco_area_ranges(gt: COCO, area_ranges: str) -> list[list[float]]:
    small, medium = area_thresholds(gt, area_ranges)
    return [[0, ALL_AREAS], [0, small], [small, medium], [medium, ALL_AREAS]]  # Params.areaRngLbl order


def _has_ground_truth(gt: COCO, area_label: str, area_ranges: str) -> bool:
    low, high = _coco_area_ranges(gt, area_ranges)[Params(iouType="bbox").areaRngLbl.index(area_label)]
    return any(not a["iscrowd"] and low <= a["area"] <= high for a in gt.dataset["annotations"])


def coco_metrics(gt: COCO, detections: list[dict], area_ranges: str = "absolute",
                 iou_type: str = "bbox") -> dict[str, float | None]:
    """COCO box (or mask) AP of detections against ground truth.

    Args:
        gt: pycocotools index of the ground truth (see `ground_truth`; with masks for 'segm').
        detections: COCO result dicts (`image_id`, `category_id`, `score`, and `bbox` [x, y, w, h]
            for 'bbox' or `segmentation` RLE, without `bbox`, for 'segm').
        area_ranges: 'absolute' (COCOeval's pixel thresholds) or 'relative' (scaled to the images).
        iou_type: 'bbox' (box IoU) or 'segm' (mask IoU); the area ranges read the ground truth's
            `area` either way.
    Returns:
        `ap, ap50, ap75, aps, apm, apl` as floats in [0, 1]; None where the range has no
        ground truth (COCOeval's -1); 0.0 for ranges with ground truth when there are no detections.
    """
    if not detections:
        return {k: 0.0 if _has_ground_truth(gt, AREA_OF_KEY[k], area_ranges) else None for k in DETECTION_METRICS}
    with contextlib.redirect_stdout(io.StringIO()):
        evaluator = COCOeval(gt, gt.loadRes(detections), iouType=iou_type)
        evaluator.params.areaRng = _coco_area_ranges(gt, area_ranges)
        evaluator.evaluate()
        evaluator.accumulate()
        evaluator.summarize()
    return {k: None if v < 0 else float(v) for k, v in zip(DETECTION_METRICS, evaluator.stats[:6])}


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
