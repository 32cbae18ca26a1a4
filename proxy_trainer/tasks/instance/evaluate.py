"""The instance reward: COCO box AP and mask AP of a Mask R-CNN on the held-out split.

`predict_instances` runs the model in eval mode and writes each detection twice in the image's
own pixels: as a box result and as a mask result (the mask's probabilities cut to the image's
part of the letterboxed canvas, resized back, thresholded at 0.5, COCO RLE). Mask results carry
no `bbox`, so pycocotools derives their area and box from the mask. `instance_metrics` scores
both with COCOeval (iouType "bbox" and "segm") against one ground-truth index holding the masks.
"""

from __future__ import annotations

import torch
from pycocotools.coco import COCO

from proxy_trainer.data.masks import encode_mask, original_masks
from proxy_trainer.data.records import DataSet
from proxy_trainer.evaluate import coco_metrics, to_coco_results
from proxy_trainer.modeling.two_stage import BACKGROUND_CLASSES
from proxy_trainer.tasks.instance import MASK_PREFIX


def _mask_results(output: dict, meta: dict, boxes: list[dict]) -> list[dict]:
    masks = original_masks(output["masks"], meta["scale"], meta["height"], meta["width"])  # [N, H, W]
    return [{"image_id": box["image_id"], "category_id": box["category_id"], "score": box["score"],
             "segmentation": encode_mask(mask)} for box, mask in zip(boxes, masks)]


@torch.no_grad()
def predict_instances(model: torch.nn.Module, loader, data: DataSet,
                      device: torch.device) -> tuple[list[dict], list[dict]]:
    """(box results, mask results) of every image of a loader, as COCO result dicts."""
    model.eval()
    category_of = {label + BACKGROUND_CLASSES: cid for label, cid in data.category_of().items()}
    box_results: list[dict] = []
    mask_results: list[dict] = []
    for images, _, metas in loader:
        outputs = model([img.to(device) for img in images])
        for output, meta in zip(outputs, metas):
            boxes = to_coco_results(output, meta, category_of)
            box_results.extend(boxes)
            mask_results.extend(_mask_results(output, meta, boxes))
    return box_results, mask_results


def instance_metrics(gt: COCO, box_results: list[dict], mask_results: list[dict],
                     area_ranges: str = "absolute") -> dict[str, float | None]:
    """Box AP (`ap` .. `apl`) and mask AP (`mask_ap` .. `mask_apl`) of a model's results."""
    boxes = coco_metrics(gt, box_results, area_ranges, iou_type="bbox")
    masks = coco_metrics(gt, mask_results, area_ranges, iou_type="segm")
    return {**boxes, **{MASK_PREFIX + name: value for name, value in masks.items()}}
