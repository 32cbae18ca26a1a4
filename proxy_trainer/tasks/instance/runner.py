"""The instance task's `TaskRunner`: torchvision Mask R-CNN around the backbone
(`modeling/two_stage.py`), trained on letterboxed images with their boxes and visible masks
(`data.py`; the data set is loaded with masks), the RPN, box and mask losses of torchvision
summed, scored by COCO box AP and mask AP on the reward split (`evaluate.py`) after BN statistics
are re-estimated as the tier asks. Every BN layer sits in the backbone (torchvision's heads have
none), so precise BN runs the transform and the backbone only.

Options (`task.options`): `train_proposals`, `test_proposals` (RPN proposals kept per image) and
`rois_per_image` (RoIs the box head samples per training image), `RoISampling`'s fields; left
out, torchvision's and Model Garden's 2000, 1000 and 512.
"""

from __future__ import annotations

from collections.abc import Mapping

from proxy_trainer.data.images import hflip_batch
from proxy_trainer.evaluate import ground_truth
from proxy_trainer.modeling.two_stage import RoISampling, build_mask_rcnn, shift_labels
from proxy_trainer.precise_bn import recompute_bn_statistics
from proxy_trainer.tasks.base import TaskOptionsError, TaskRunner, typed_options
from proxy_trainer.tasks.instance import METRICS
from proxy_trainer.tasks.instance.data import InstanceDataset
from proxy_trainer.tasks.instance.evaluate import instance_metrics, predict_instances
from proxy_trainer.tasks.instance.model import count_mask_rcnn
from search_space.errors import UserInputError


def forward_backbone(model, images: list) -> None:
    """The transform and the backbone of a torchvision detector (where its BN layers are)."""
    batch, _ = model.transform(images)
    model.backbone(batch.tensors)


class InstanceRunner(TaskRunner):
    metrics = METRICS
    needs_masks = True

    def options(self, raw: Mapping) -> RoISampling:
        try:
            return typed_options(self.metrics.task, RoISampling, raw)
        except TaskOptionsError:
            raise
        except UserInputError as err:  # RoISampling's own check of a value
            raise TaskOptionsError(f"task.options.{err}") from None

    def dataset(self, split, image_size, cache, inputs=None):
        return InstanceDataset(split, image_size, cache=cache, inputs=inputs)

    def build_model(self, spec, cfg, num_classes, options):
        model = build_mask_rcnn(spec, cfg.model, num_classes=num_classes, image_size=cfg.image_size,
                                sampling=options)
        model.roi_heads.score_thresh = cfg.score_threshold  # torchvision's post-processing threshold
        return model

    def count(self, spec, cfg, num_classes, options):
        return count_mask_rcnn(spec, cfg.model, num_classes=num_classes, image_size=cfg.image_size,
                               sampling=options)

    def flip(self, images, targets, generator):
        return hflip_batch(images, targets, generator)

    def loss(self, model, images, targets, options):
        return sum(model(images, shift_labels(targets)).values())

    def forward_features(self, model, images):
        forward_backbone(model, images)

    def evaluator(self, data, cfg, device):
        from proxy_trainer.train import precise_bn_due

        gt = ground_truth(data.val, masks=True)  # once per run, not per epoch

        def evaluate(model, loaders, epoch: int) -> dict:
            if precise_bn_due(cfg, epoch == cfg.epochs):
                recompute_bn_statistics(model, loaders.statistics, cfg.precise_bn_batches, device,
                                        self.forward_features)
            boxes, masks = predict_instances(model, loaders.val, data.val, device)
            return instance_metrics(gt, boxes, masks, cfg.area_ranges)

        return evaluate


RUNNER = InstanceRunner()
