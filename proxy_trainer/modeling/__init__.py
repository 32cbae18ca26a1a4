"""Torch models: the SpineNet backbone, the ResNet-FPN baseline, the TF-style RetinaNet head and
the detector that wraps them, plus the model config and the torch spec export."""
