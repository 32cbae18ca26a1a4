"""The detection task's `TaskRunner`: torchvision RetinaNet (`modeling/detector.py`), letterboxed
images with their boxes (`data/images.py`), focal + box losses from the detector itself, and COCO
box AP from pycocotools on the reward split (`evaluate.py`)."""

from __future__ import annotations

from proxy_trainer.complexity import count_params_flops
from proxy_trainer.data.images import DetectionDataset, hflip_batch
from proxy_trainer.evaluate import ground_truth
from proxy_trainer.modeling.detector import build_detector
from proxy_trainer.precise_bn import forward_detector_features
from proxy_trainer.tasks.base import TaskRunner
from proxy_trainer.tasks.detection import METRICS


class DetectionRunner(TaskRunner):
    metrics = METRICS

    def dataset(self, split, image_size, cache, inputs=None):
        return DetectionDataset(split, image_size, cache=cache, inputs=inputs)

    def build_model(self, spec, cfg, num_classes, options):
        model = build_detector(spec, cfg.model, num_classes=num_classes, image_size=cfg.image_size)
        model.score_thresh = cfg.score_threshold  # torchvision RetinaNet's post-processing threshold
        return model

    def count(self, spec, cfg, num_classes, options):
        return count_params_flops(spec, cfg.model, num_classes=num_classes, image_size=cfg.image_size)

    def flip(self, images, targets, generator):
        return hflip_batch(images, targets, generator)

    def loss(self, model, images, targets, options):
        return sum(model(images, targets).values())

    def forward_features(self, model, images):
        forward_detector_features(model, images)

    def evaluator(self, data, cfg, device):
        from proxy_trainer.train import evaluate_model

        gt = ground_truth(data.val)  # once per run, not per epoch
        return lambda model, loaders, epoch: evaluate_model(model, loaders, data, cfg, device, gt,
                                                            last=epoch == cfg.epochs)


RUNNER = DetectionRunner()
