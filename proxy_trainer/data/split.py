"""The held-out reward split: a deterministic subset of a training set's images.

The paper reserves 7,392 images of COCO train2017 and uses the proxy's AP on them as the reward
(docs/facts.md §5.1). The split depends only on the image ids, the size and the seed, never on file order.
"""

from __future__ import annotations

import random
from dataclasses import replace

from proxy_trainer.data.errors import DataError
from proxy_trainer.data.records import DataSet


def holdout_split(data: DataSet, size: int, seed: int) -> tuple[DataSet, DataSet]:
    """Split a data set into (train, held-out).

    Args:
        data: the validated training set.
        size: number of held-out images (>= 1, leaving at least one to train on).
        seed: seed of the shuffle that picks them.
    Returns:
        Two `DataSet`s sharing the category table; images sorted by id in each.
    Raises:
        DataError: size out of range for this data set.
    """
    total = len(data.images)
    if not 1 <= size < total:
        raise DataError(
            f"{data.annotations_file}: a held-out split of {size} images needs 1 <= size < {total} "
            "(the number of images); change data.heldout_images"
        )
    ids = sorted(r.image_id for r in data.images)
    random.Random(seed).shuffle(ids)
    held = set(ids[:size])
    train = tuple(r for r in data.images if r.image_id not in held)
    val = tuple(r for r in data.images if r.image_id in held)
    return replace(data, images=train), replace(data, images=val)
