"""Our exports against their real consumer: TF Model Garden builds each `nas export --format tf`
text with its own `SpineNet(block_specs=build_block_specs(...), **SCALING_MAP[key])`, and its
trainable parameters, BN statistics and per-level output shapes are compared with our PyTorch
build of the same spec (dead blocks pruned, as TF prunes them).

Cases: SpineNet-49 at the five scalings; 25 seeded random specs (`nas sample --space resnet50
--n 20 --seed 7` and `--space r0-sp53 --n 5 --seed 7`, model 49), many with dead blocks; Model
Garden's own 16-entry list at min_level 3 and 2; and '49S-paper', a key that Model Garden's map
lacks, pasted in as our export writes it. Every case also checks that pasting keeps all of
Model Garden's SCALING_MAP keys. TF runs in its own venv (`make check-tf` creates `.venv-tf`:
Ray pins a protobuf that TensorFlow cannot use) as a subprocess that answers in JSON.

    make check-tf                              # ~5 min on 2 cores after the venv exists
    python benchmarks/check_tf.py --tf-python .venv-tf/bin/python
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import RESULTS_DIR, print_table, write_json

from proxy_trainer.modeling.detector import build_backbone
from proxy_trainer.modeling.model_config import ModelConfig
from search_space import SearchSpace, from_tf_text, get_builtin, get_scaling, to_tf_text
from search_space.reachability import dead_features

TF_SIDE = Path(__file__).resolve().parent / "tf_check" / "model_garden_build.py"
SCALINGS = ("49S", "49", "96", "143", "190")
INPUT_SIZE = 640
L2_ENTRY = "    (2, 'bottleneck', (2, 13), True),\n"


def cases() -> list[dict]:
    """Every spec to build, with its export text, scaling key and levels."""
    sp49 = get_builtin("spinenet-49")
    found = [{"name": f"spinenet-{m}", "spec": sp49, "model": m, "min_level": 3} for m in SCALINGS]
    found.append({"name": "spinenet-49S-paper", "spec": sp49, "model": "49S-paper", "min_level": 3})
    for space, n in (("resnet50", 20), ("r0-sp53", 5)):
        found += [{"name": s.name, "spec": s, "model": "49", "min_level": 3}
                  for s in (SearchSpace.from_seed(space).sample_spec(7, k) for k in range(n))]
    garden = from_tf_text(to_tf_text(sp49).replace("]\n", L2_ENTRY + "]\n"), name="model-garden-49-list")
    found += [{"name": f"model-garden-49-list-min{lv}", "spec": garden, "model": "49", "min_level": lv} for lv in (3, 2)]
    for case in found:
        case.update(text=to_tf_text(case["spec"], get_scaling(case["model"]), case["model"]), max_level=7,
                    input_size=INPUT_SIZE)
    return found


def ours(case: dict) -> dict:
    """Trainable parameters, BN statistics and [H, W, C] per level of our backbone."""
    config = ModelConfig.from_scaling(case["model"], min_level=case["min_level"])
    with torch.device("meta"):
        model = build_backbone(case["spec"], config).eval()
        outputs = model(torch.empty(1, 3, INPUT_SIZE, INPUT_SIZE))
    stats = sum(b.numel() for name, b in model.named_buffers() if name.endswith(("running_mean", "running_var")))
    return {
        "trainable": sum(p.numel() for p in model.parameters()),
        "non_trainable": stats,
        "levels": {level: [t.shape[2], t.shape[3], t.shape[1]] for level, t in outputs.items()},
    }


def ask_model_garden(tf_python: str, requests: list[dict]) -> dict:
    """Run the TF side in its venv; its JSON answer."""
    env = {**os.environ, "TF_USE_LEGACY_KERAS": "1", "TF_CPP_MIN_LOG_LEVEL": "2", "CUDA_VISIBLE_DEVICES": ""}
    done = subprocess.run([tf_python, str(TF_SIDE)], input=json.dumps(requests), capture_output=True, text=True,
                          env=env, check=False)
    if done.returncode != 0:
        sys.exit(f"check-tf: the Model Garden side failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout)


def compare(case: dict, tf_answer: dict) -> dict:
    mine = ours(case)
    tf = {k: tf_answer[k] for k in ("trainable", "non_trainable", "levels")}
    same = mine == tf
    return {
        "name": case["name"], "model": case["model"], "min_level": case["min_level"],
        "dead_features": list(dead_features(case["spec"], case["min_level"], 7)),
        "ours": mine, "model_garden": tf, "match": same,
        "map_keys_kept": tf_answer["map_keys_kept"], "map_replaced": tf_answer["map_replaced"],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tf-python", default=".venv-tf/bin/python", help="python of the TF venv")
    parser.add_argument("--out", type=Path, default=RESULTS_DIR, help="folder of the JSON")
    args = parser.parse_args()
    todo = cases()
    requests = [{k: c[k] for k in ("name", "text", "model", "min_level", "max_level", "input_size")} for c in todo]
    answer = ask_model_garden(args.tf_python, requests)
    rows = [compare(case, tf) for case, tf in zip(todo, answer["cases"])]
    print_table(["case", "model", "min", "dead", "ours", "Model Garden", "match", "keys kept"],
                [[r["name"], r["model"], r["min_level"], len(r["dead_features"]), r["ours"]["trainable"],
                  r["model_garden"]["trainable"], r["match"], r["map_keys_kept"] and not r["map_replaced"]]
                 for r in rows])
    matching = sum(r["match"] for r in rows)
    summary = {
        "cases": len(rows), "matching": matching, "with_dead_blocks": sum(bool(r["dead_features"]) for r in rows),
        "map_keys_kept": all(r["map_keys_kept"] and not r["map_replaced"] for r in rows),
    }
    print(f"{matching}/{len(rows)} cases match Model Garden exactly (parameters, BN statistics, level shapes); "
          f"SCALING_MAP keys kept in every paste: {summary['map_keys_kept']}")
    path = write_json("tf_check", {"versions": answer["versions"], "model_garden_keys": answer["model_garden_keys"],
                                   "input_size": INPUT_SIZE, "summary": summary, "cases": rows}, args.out)
    print(f"wrote {path}")
    return 0 if matching == len(rows) and summary["map_keys_kept"] else 1


if __name__ == "__main__":
    sys.exit(main())
