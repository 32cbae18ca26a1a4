"""From a `DataConfig` to validated train and reward sets: the one entry point training and the
CLI use, so every data problem surfaces before anything trains."""

from __future__ import annotations

from dataclasses import dataclass

from proxy_trainer.config import DataConfig
from proxy_trainer.data.cache import ensure_synthetic
from proxy_trainer.data.coco import load_coco
from proxy_trainer.data.errors import DataError
from proxy_trainer.data.records import DataSet
from proxy_trainer.data.split import holdout_split


@dataclass(frozen=True)
class PreparedData:
    """The training set, the reward (held-out) set, and what cleaning did."""

    train: DataSet
    val: DataSet
    dropped_boxes: int  # degenerate boxes removed from both files
    clipped_boxes: int  # boxes clipped to their image in both files

    def summary(self) -> dict:
        """Counts for logs and result rows."""
        return {
            "train_images": len(self.train.images),
            "val_images": len(self.val.images),
            "num_classes": self.train.num_classes,
            "dropped_boxes": self.dropped_boxes,
            "clipped_boxes": self.clipped_boxes,
        }


def _source_files(cfg: DataConfig, masks: bool) -> tuple[str, str]:
    if cfg.kind == "synthetic":
        return ensure_synthetic(cfg.synth_images, cfg.synth_size, cfg.synth_seed, cfg.cache_dir, cfg.synth_scales,
                                masks=masks)
    return cfg.images, cfg.annotations


def _check_same_categories(train: DataSet, val: DataSet) -> None:
    if [c.category_id for c in train.categories] != [c.category_id for c in val.categories]:
        raise DataError(
            f"annotation file {val.annotations_file} has category ids other than "
            f"{train.annotations_file}; the reward set must use the training categories"
        )


def prepare_data(cfg: DataConfig, masks: bool = False) -> PreparedData:
    """Load, validate and split the data a `DataConfig` names (generating synthetic data if needed);
    with `masks`, every object's mask too (`load_coco`).

    Returns:
        `PreparedData`; the reward set is carved from training (`heldout_images`, `split_seed`)
        unless `val_images`/`val_annotations` are given.
    Raises:
        DataError: any data problem (see `proxy_trainer.data.coco`).
    """
    full = load_coco(*_source_files(cfg, masks), masks=masks)
    if cfg.val_images is None:
        train, val = holdout_split(full, cfg.heldout_images, cfg.split_seed)
        return PreparedData(train, val, full.dropped_boxes, full.clipped_boxes)
    val = load_coco(cfg.val_images, cfg.val_annotations, masks=masks)
    _check_same_categories(full, val)
    return PreparedData(full, val, full.dropped_boxes + val.dropped_boxes, full.clipped_boxes + val.clipped_boxes)
