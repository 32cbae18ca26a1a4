"""proxy_trainer: the torch side — SpineNet and ResNet-FPN backbones, the RetinaNet detector,
COCO-format data, proxy training and pycocotools evaluation. Never imports Ray or `controller`."""
