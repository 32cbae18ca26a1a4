"""COCO-format data for the proxy task: validated loading through pycocotools, the held-out
reward split, letterboxed detector inputs, and the bundled synthetic multi-scale generator."""

from proxy_trainer.data.errors import DataError
from proxy_trainer.data.records import Category, DataSet, ImageRecord

__all__ = ["Category", "DataError", "DataSet", "ImageRecord"]
