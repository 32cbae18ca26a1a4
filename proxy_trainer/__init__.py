"""proxy_trainer: the torch side — SpineNet and ResNet-FPN backbones, the RetinaNet detector,
COCO-format data, proxy training and pycocotools evaluation. Never imports Ray or `controller`.

`proxy_trainer.train_and_evaluate` is the entry point (imported lazily, so `import proxy_trainer`
stays cheap).
"""


def __getattr__(name: str):
    if name == "train_and_evaluate":
        from proxy_trainer.train import train_and_evaluate

        return train_and_evaluate
    raise AttributeError(f"module 'proxy_trainer' has no attribute {name!r}")
