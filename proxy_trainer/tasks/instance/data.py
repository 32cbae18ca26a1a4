"""Images as Mask R-CNN inputs: detection's letterboxed images and boxes, plus each non-crowd
object's mask in the same letterboxed pixels (uint8 [N, S, S]), decoded from the record's RLE
when the item is served (`hflip_batch` flips masks with their image)."""

from __future__ import annotations

from proxy_trainer.data.images import DetectionDataset, target_of
from proxy_trainer.data.masks import decode_masks, letterbox_masks


class InstanceDataset(DetectionDataset):
    """A `DataSet` loaded with masks as (image [3, S, S] in [0, 1], {boxes, labels, masks}, meta)."""

    def __getitem__(self, index: int):
        pixels, scale = self._pixels(index)
        record = self.records[index]
        target = target_of(record, scale, self.label_of)
        kept = [rle for rle, crowd in zip(record.masks, record.crowd) if not crowd]  # as target_of keeps boxes
        masks = letterbox_masks(decode_masks(kept, record.height, record.width), scale, self.image_size)
        meta = {"image_id": record.image_id, "scale": scale, "height": record.height, "width": record.width}
        return self._image(pixels), {**target, "masks": masks}, meta
