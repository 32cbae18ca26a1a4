"""GPU check: training throughput of SpineNet-49 vs R50-FPN RetinaNet at 640 px in bf16 +
channels_last, one `coco512`-tier proxy trial on synthetic 512 px data with its wall time, and the
images/s of that tier's training DataLoader (its workers, pinning and persistence) on the same data.

Needs only torch, torchvision, `search_space` and `proxy_trainer`; PyYAML (the tier files) and
pycocotools (the trainer's data and AP) are optional: without them only the throughput runs
and the trial says what is missing. Installs nothing. `--cpu` is a tiny dry run of the same
code (used by the tests). Prints a short table last and writes results/benchmarks/gpu_check.json.

    python benchmarks/gpu_check.py            # on a GPU machine, at most ~6 minutes
    python benchmarks/gpu_check.py --cpu      # seconds, on any machine
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import machine_info, print_table, write_json

from proxy_trainer.modeling.detector import build_detector
from proxy_trainer.modeling.model_config import ModelConfig
from search_space import get_builtin

FULL = {"image_size": 640, "batch": 16, "steps": 20, "warmup": 5, "width": {}}
DRY = {"image_size": 128, "batch": 2, "steps": 2, "warmup": 1,
       "width": {"filter_size_scale": 0.25, "resample_alpha": 0.25, "endpoints_num_filters": 32,
                     "head_num_convs": 1, "head_num_filters": 32}}


def random_batch(batch: int, size: int, device: torch.device):
    """Random images and 4 random boxes per image (labels over COCO's 90 classes)."""
    gen = torch.Generator().manual_seed(size)
    images = [torch.rand(3, size, size, generator=gen).to(device) for _ in range(batch)]
    targets = []
    for _ in range(batch):
        xy = torch.rand(4, 2, generator=gen) * size * 0.6
        wh = torch.rand(4, 2, generator=gen) * size * 0.35 + 8
        targets.append({"boxes": torch.cat([xy, xy + wh], 1).to(device),  # [4, 4] x1y1x2y2
                        "labels": torch.randint(0, 90, (4,), generator=gen).to(device)})
    return images, targets


def throughput(spec, cfg: dict, device: torch.device) -> float:
    """Training images/s of one detector (bf16 autocast + channels_last on CUDA)."""
    torch.manual_seed(0)
    config = ModelConfig(**cfg["width"])
    model = build_detector(spec, config, num_classes=90, image_size=cfg["image_size"]).to(device)
    model.to(memory_format=torch.channels_last).train()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    images, targets = random_batch(cfg["batch"], cfg["image_size"], device)
    autocast = (torch.autocast("cuda", dtype=torch.bfloat16) if device.type == "cuda"
                else contextlib.nullcontext())
    for i in range(cfg["warmup"] + cfg["steps"]):
        if i == cfg["warmup"]:
            _sync(device)
            start = time.perf_counter()
        with autocast:
            loss = sum(model(images, targets).values())
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    _sync(device)
    return cfg["batch"] * cfg["steps"] / (time.perf_counter() - start)


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


CONF_DIR = Path(__file__).resolve().parent.parent / "nas" / "conf"


def load_group(group: str, name: str) -> dict | None:
    """A Hydra group file as a plain dict (PyYAML safe_load); None where PyYAML is missing."""
    try:
        import yaml
    except ImportError:
        return None
    return yaml.safe_load((CONF_DIR / group / f"{name}.yaml").read_text())


LOADER_DEFAULT = "/data/loader@_global_.data"  # how a tier's defaults list brings its loader settings


def load_tier(name: str) -> tuple[dict, dict] | None:
    """A proxy tier file as (its settings, the data settings its defaults list brings from
    `data/loader/`), as Hydra composes them (proxy/coco512.yaml); None where PyYAML is missing."""
    tier = load_group("proxy", name)
    if tier is None:
        return None
    data: dict = {}
    for entry in tier.pop("defaults", None) or []:
        if isinstance(entry, dict) and LOADER_DEFAULT in entry:
            data.update(load_group("data/loader", entry[LOADER_DEFAULT]))
    return tier, data


def _missing_package() -> dict | None:
    """Why the trainer's data cannot be used here (a `skipped` result), or None."""
    if load_group("data", "synthetic") is None:
        return {"skipped": "PyYAML is not installed, so the tier files cannot be read"}
    try:
        import pycocotools  # noqa: F401
    except ImportError:
        return {"skipped": "pycocotools is not installed (the trainer reads COCO data and scores AP with it); "
                           "put its wheel on PYTHONPATH: results/README.md, GPU check"}
    return None


def synthetic_data(dry: bool, cache_dir: Path) -> dict:
    """The synthetic data settings of the trial and the loader timing: 300 images at 512 px (40 at
    64 px when dry), a fifth held out."""
    size, images = (64, 40) if dry else (512, 300)
    return {**load_group("data", "synthetic"), "synth_size": size, "synth_images": images,
            "heldout_images": images // 5, "cache_dir": str(cache_dir)}


def proxy_trial(dry: bool, cache_dir: Path) -> dict:
    """One coco512-tier trial of SpineNet-49 on synthetic 512 px data, with the tier's loader
    settings (smoke tier, 64 px, no loader workers when dry)."""
    missing = _missing_package()
    if missing:
        return missing
    from proxy_trainer.config import DataConfig, ProxyConfig
    from proxy_trainer.train import train_and_evaluate

    tier, loader = load_tier("smoke" if dry else "coco512")
    data = {**synthetic_data(dry, cache_dir), **loader}
    size, images = data["synth_size"], data["synth_images"]
    tier.update(epochs=1, device="cpu") if dry else tier.update(device="cuda")
    start = time.perf_counter()
    metrics = train_and_evaluate(get_builtin("spinenet-49"), ProxyConfig.from_dict(tier), DataConfig.from_dict(data)).flat()
    return {"tier": tier["tier"], "synthetic_images": images, "image_size": size, "epochs": tier["epochs"],
            "wall_s": time.perf_counter() - start, "train_s": metrics["train_seconds"],
            "images_per_s": metrics["images_per_second"], "ap": metrics["ap"], "status": metrics["status"]}


LOADER_REPEATS = 4  # the 240 training images 4 times: 15 batches of 64 per epoch, about 2 per worker
LOADER_EPOCHS = 3  # the first starts the workers; the others reuse them (persistent_workers)


def loader_timing(dry: bool, cache_dir: Path, device: torch.device) -> dict:
    """Images/s of the coco512 tier's training DataLoader (`make_loaders` with the tier's batch,
    workers, pinning and persistence) at its input size on the synthetic set, every image decoded
    and letterboxed each epoch as for COCO (`cache_images` off), batches copied to the device as the
    training step copies them; and one process's rate (decode + letterbox in this process), which
    N workers can at most multiply by N. Dry: 64 px, batch 4, 2 workers."""
    missing = _missing_package()
    if missing:
        return missing
    from proxy_trainer.config import DataConfig, ProxyConfig
    from proxy_trainer.data.prepare import prepare_data
    from proxy_trainer.runtime import RuntimeSettings
    from proxy_trainer.tasks import task_runner
    from proxy_trainer.train import make_loaders

    tier, loader = load_tier("coco512")
    data = {**synthetic_data(dry, cache_dir), **loader, "cache_images": False}
    tier.update(image_size=data["synth_size"], device=device.type)
    if dry:
        tier.update(batch_size=4)
        data.update(num_workers=2)
    proxy_cfg, data_cfg = ProxyConfig.from_dict(tier), DataConfig.from_dict(data)
    runtime = RuntimeSettings.resolve(proxy_cfg, data_cfg, device)
    prepared = prepare_data(data_cfg)
    repeated = dataclasses.replace(prepared.train, images=prepared.train.images * LOADER_REPEATS)
    loaders = make_loaders(dataclasses.replace(prepared, train=repeated), proxy_cfg, data_cfg, device,
                           runtime=runtime)
    rates = [_epoch_rate(loaders.train, runtime) for _ in range(LOADER_EPOCHS)]
    dataset = task_runner().dataset(prepared.train, proxy_cfg.image_size, False)
    count = min(len(dataset), 2 * proxy_cfg.batch_size)
    start = time.perf_counter()
    for index in range(count):
        dataset[index]
    one_process = count / (time.perf_counter() - start)
    del loaders  # ends the persistent workers
    return {"image_size": proxy_cfg.image_size, "batch": proxy_cfg.batch_size,
            "batches_per_epoch": len(repeated.images) // proxy_cfg.batch_size,
            **{k: v for k, v in runtime.describe().items() if k in ("num_workers", "persistent_workers", "pin_memory")},
            "first_epoch_images_per_s": rates[0], "images_per_s": sum(rates[1:]) / len(rates[1:]),
            "one_process_images_per_s": one_process}


def _epoch_rate(loader, runtime) -> float:
    """Images/s of one pass over a loader, each batch copied to the device."""
    images_seen = 0
    start = time.perf_counter()
    for images, targets, _ in loader:
        for image in images:
            runtime.to_device(image)
        for target in targets:
            for value in target.values():
                runtime.to_device(value)
        images_seen += len(images)
    _sync(runtime.device)
    return images_seen / (time.perf_counter() - start)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cpu", action="store_true", help="tiny dry run on the CPU")
    parser.add_argument("--skip-trial", action="store_true", help="no proxy trial (throughput and loader)")
    parser.add_argument("--out", default=None, help="output folder (default results/benchmarks)")
    parser.add_argument("--cache", default=None, help="synthetic data folder (default: a new temp folder)")
    args = parser.parse_args(argv)
    device = torch.device("cpu" if args.cpu or not torch.cuda.is_available() else "cuda")
    if device.type == "cpu" and not args.cpu:
        print("no CUDA device found; run with --cpu for a dry run", file=sys.stderr)
        return 2
    cfg = DRY if args.cpu else FULL
    sn = throughput(get_builtin("spinenet-49"), cfg, device)
    r50 = throughput(None, cfg, device)
    result = {"device": machine_info().get("gpu", "cpu"), "image_size": cfg["image_size"], "batch": cfg["batch"],
              "spinenet49_images_per_s": sn, "r50fpn_images_per_s": r50, "speed_ratio": sn / r50}
    cache = Path(args.cache) if args.cache else Path(tempfile.mkdtemp(prefix="gpu_check_"))
    if not args.skip_trial:
        result["proxy_trial"] = proxy_trial(args.cpu, cache)
    result["loader"] = loader_timing(args.cpu, cache, device)  # after the trial: its data is generated by then
    path = write_json("gpu_check" + ("_dry" if args.cpu else ""), result, args.out)
    rows = [["SpineNet-49 images/s", sn], ["R50-FPN images/s", r50], ["speed ratio SN49/R50", sn / r50]]
    rows += [[f"loader {k}", v] for k, v in result["loader"].items()]
    if "proxy_trial" in result:
        rows += [[f"proxy trial {k}", v] for k, v in result["proxy_trial"].items()]
    print(f"wrote {path}")
    print_table(["measure", f"value ({result['device']}, {cfg['image_size']} px)"], rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
