"""Runs inside `.venv-tf` (TensorFlow + tf-models-official, no torch): builds exported specs with
TF Model Garden's own SpineNet and answers in JSON on stdout.

Input (JSON on stdin): a list of cases {"name", "text", "model", "min_level", "max_level",
"input_size"}, where "text" is what `nas export --format tf --model M` wrote. Each text is applied
to a copy of Model Garden's module state the way pasting it into `spinenet.py` would: its
`SPINENET_BLOCK_SPECS = [...]` replaces the list and each `SCALING_MAP[key] = {...}` sets one key
of Model Garden's map (an assignment to the whole map would replace it, and is reported). The
statements are read with `ast.literal_eval`, never executed. Then
`SpineNet(block_specs=build_block_specs(list), **SCALING_MAP[model])` is built at the input size.

Output: {"versions": {...}, "cases": [{"name", "trainable", "non_trainable", "levels", "map_keys_kept",
"map_replaced"}]}; "levels" maps each endpoint level to [H, W, C].
"""

from __future__ import annotations

import ast
import copy
import importlib.metadata
import importlib.util
import json
import os
import sys
import types

PACKAGES = ("official", "official.core", "official.modeling", "official.vision", "official.vision.modeling",
            "official.vision.modeling.backbones", "official.vision.modeling.layers", "official.vision.ops")


def import_spinenet():
    """Model Garden's backbone module, with the package initialisers (which pull in datasets,
    pycocotools and more) kept from running: each package is an empty module with its path."""
    root = next(iter(importlib.util.find_spec("official").submodule_search_locations))
    for name in PACKAGES:
        module = types.ModuleType(name)
        module.__path__ = [os.path.join(root, *name.split(".")[1:])]
        sys.modules[name] = module
    from official.vision.modeling.backbones import spinenet

    return spinenet


def pasted(text: str, spinenet) -> tuple[list, dict, bool]:
    """(block list, SCALING_MAP, whether the whole map was assigned) after pasting `text`."""
    blocks, scaling_map, replaced = spinenet.SPINENET_BLOCK_SPECS, copy.deepcopy(spinenet.SCALING_MAP), False
    for node in ast.parse(text).body:
        for target in getattr(node, "targets", []):
            if isinstance(target, ast.Name) and target.id == "SPINENET_BLOCK_SPECS":
                blocks = ast.literal_eval(node.value)
            elif isinstance(target, ast.Name) and target.id == "SCALING_MAP":
                scaling_map, replaced = ast.literal_eval(node.value), True
            elif isinstance(target, ast.Subscript) and getattr(target.value, "id", None) == "SCALING_MAP":
                scaling_map[ast.literal_eval(target.slice)] = ast.literal_eval(node.value)
    return blocks, scaling_map, replaced


def build(case: dict, spinenet, tf) -> dict:
    blocks, scaling_map, replaced = pasted(case["text"], spinenet)
    size = case["input_size"]
    model = spinenet.SpineNet(
        input_specs=tf.keras.layers.InputSpec(shape=[None, size, size, 3]), min_level=case["min_level"],
        max_level=case["max_level"], block_specs=spinenet.build_block_specs(blocks), **scaling_map[case["model"]],
    )
    original = spinenet.SCALING_MAP
    return {
        "name": case["name"],
        "trainable": int(sum(int(tf.size(w)) for w in model.trainable_weights)),
        "non_trainable": int(sum(int(tf.size(w)) for w in model.non_trainable_weights)),
        "levels": {level: shape.as_list()[1:] for level, shape in model.output_specs.items()},
        "map_keys_kept": all(key in scaling_map and (key == case["model"] or scaling_map[key] == value)
                             for key, value in original.items()),
        "map_replaced": replaced,
    }


def main() -> None:
    cases = json.load(sys.stdin)
    spinenet = import_spinenet()
    import tensorflow as tf

    versions = {name: importlib.metadata.version(name) for name in ("tensorflow-cpu", "tf-models-official", "tf-keras")}
    answers = [build(case, spinenet, tf) for case in cases]
    json.dump({"versions": versions, "model_garden_keys": sorted(spinenet.SCALING_MAP), "cases": answers}, sys.stdout)


if __name__ == "__main__":
    main()
