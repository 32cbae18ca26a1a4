"""The instance task: its metrics (box and mask AP, reward mask AP), mask AP of pycocotools that
gives 1.0 to the ground truth itself and less to a shifted mask, its counts, and a smoke training
that reports every metric each epoch."""

from __future__ import annotations

import dataclasses
import os

import numpy as np
import pytest
import yaml

from proxy_trainer.config import DataConfig, ProxyConfig, TaskConfig
from proxy_trainer.data.masks import decode_masks, encode_mask
from proxy_trainer.data.prepare import prepare_data
from proxy_trainer.evaluate import ground_truth
from proxy_trainer.modeling.model_config import ModelConfig
from proxy_trainer.modeling.two_stage import RoISampling
from proxy_trainer.tasks import task_metrics, task_names, task_runner
from proxy_trainer.tasks.base import TaskOptionsError
from proxy_trainer.tasks.instance.evaluate import instance_metrics
from proxy_trainer.tasks.instance.model import count_mask_rcnn
from proxy_trainer.train import train_and_evaluate
from search_space import get_builtin
from search_space.trial_result import TrialStatus

pytestmark = pytest.mark.usefixtures("one_thread")

SMOKE = os.path.join(os.path.dirname(__file__), "..", "..", "nas", "conf", "proxy", "smoke.yaml")
BOX = ("ap", "ap50", "ap75", "aps", "apm", "apl")


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    cfg = DataConfig(synth_images=24, synth_size=64, heldout_images=8, cache_dir=str(tmp_path_factory.mktemp("c")))
    return cfg, prepare_data(cfg, masks=True)


def test_the_task_measures_box_and_mask_ap_and_rewards_mask_ap():
    metrics = task_metrics("instance")
    assert "instance" in task_names() and metrics.reward == "mask_ap"
    assert metrics.names == (*BOX, *(f"mask_{name}" for name in BOX))
    assert (metrics.label("ap"), metrics.label("mask_ap"), metrics.label("mask_apl")) == ("box AP", "mask AP",
                                                                                         "mask APl")


def test_options_are_the_sampling_with_torchvisions_defaults():
    runner = task_runner("instance")
    assert runner.options({}) == RoISampling(2000, 1000, 512)
    assert runner.options({"rois_per_image": 64}).rois_per_image == 64
    with pytest.raises(TaskOptionsError, match="unknown task.options key dropout; the instance task knows"):
        runner.options({"dropout": 0.1})
    with pytest.raises(TaskOptionsError, match=r"^task.options.test_proposals is 0; it must be a positive integer$"):
        runner.options({"test_proposals": 0})


def _results(split, shift: int = 0) -> tuple[list, list]:
    """The ground truth itself as detections (masks moved `shift` pixels right)."""
    boxes, masks = [], []
    for record in split.images:
        decoded = decode_masks(list(record.masks), record.height, record.width)
        for box, category, mask in zip(record.boxes, record.category_ids, decoded):
            common = {"image_id": record.image_id, "category_id": category, "score": 0.9}
            boxes.append({**common, "bbox": list(box)})
            masks.append({**common, "segmentation": encode_mask(np.roll(mask, shift, axis=1).astype(bool))})
    return boxes, masks


def test_mask_ap_scores_masks_not_boxes(data):
    _, prepared = data
    gt = ground_truth(prepared.val, masks=True)
    perfect = instance_metrics(gt, *_results(prepared.val))
    assert perfect["ap"] == perfect["mask_ap"] == 1.0
    boxes, shifted_masks = _results(prepared.val, shift=3)
    shifted = instance_metrics(gt, boxes, shifted_masks)
    assert shifted["ap"] == 1.0 and shifted["mask_ap"] < 0.9


def test_counts_grow_with_width_and_count_the_mask_head():
    small = ModelConfig(filter_size_scale=0.125, endpoints_num_filters=16, head_num_convs=1, head_num_filters=16)
    params, macs = count_mask_rcnn(get_builtin("spinenet-49"), small, num_classes=5, image_size=64)
    wider = dataclasses.replace(small, head_num_convs=2)
    params2, macs2 = count_mask_rcnn(get_builtin("spinenet-49"), wider, num_classes=5, image_size=64)
    # one more 3x3 conv of 16 -> 16 channels on 100 RoIs of 14x14
    assert params2 - params == 16 * 16 * 9 + 16 and macs2 - macs == 100 * 14 * 14 * 16 * 16 * 9
    fewer = count_mask_rcnn(get_builtin("spinenet-49"), small, num_classes=5, image_size=64,
                            sampling=RoISampling(test_proposals=500))
    box_head = 16 * 7 * 7 * 64 + 64 * 64 + 64 * 6 * 5  # two FC layers of 4 x 16 units, class and box outputs
    assert fewer == (params, macs - 500 * box_head)


def test_a_smoke_training_reports_box_and_mask_ap(data):
    data_cfg, _ = data
    with open(SMOKE, encoding="utf-8") as handle:
        proxy = dataclasses.replace(ProxyConfig.from_dict(yaml.safe_load(handle)), epochs=2)
    reports = []
    result = train_and_evaluate(get_builtin("spinenet-49"), proxy, data_cfg, reports.append,
                                task=TaskConfig("instance", "mask_ap"))
    assert result.status == TrialStatus.OK and result.reward_metric == "mask_ap"
    assert set(result.metrics) == set(task_metrics("instance").names) and len(reports) == 2
    assert all(result.metrics[k] is None or 0.0 <= result.metrics[k] <= 1.0 for k in result.metrics)
    assert result.params > 0 and result.flops > 0 and reports[-1].loss < reports[0].loss
