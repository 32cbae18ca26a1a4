"""Train-step time and FLOPs of the SpineNet-49 proxy vs the ResNet-50-FPN baseline.

Both detectors are built at the same width (the paper's proxy: filters x0.25, alpha 0.25, 64-d
endpoints and head) and trained on the same random batch at several input sizes. Steps of the two
models are interleaved, so machine noise hits both alike, and the median step time is reported.
The interesting number is time ratio / FLOPs ratio: 1.0 means SpineNet's FLOPs advantage shows
up fully as time; above 1 means something FLOPs do not count eats some of it. The "norm ratio"
column is one such thing: the elements SpineNet's batch-norm layers put out relative to R50-FPN's
(the memory traffic of normalization, activation and their backward passes).

    python benchmarks/proxy_step_speed.py [--sizes 128 256 384] [--steps 8] [--channels-last] [--compile]
                                          [--width proxy|full] [--keep-freed-memory]

`--width full` builds both at SpineNet-49's own widths (filters x1, alpha 0.5, 256-d endpoints and
head) instead of the proxy's. `--keep-freed-memory` sets glibc's malloc to keep freed memory for
reuse instead of returning it to the kernel, which then zero-fills fresh pages on every step.

`--compile` wraps both backbones in `torch.compile` (inductor); the first steps, which compile,
are timed apart and reported as compile seconds per model.
"""

from __future__ import annotations

import argparse
import ctypes
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import machine_info, median, print_table, write_json

from proxy_trainer.complexity import describe_model
from proxy_trainer.modeling.detector import build_detector
from proxy_trainer.modeling.model_config import ModelConfig
from search_space import get_builtin

PROXY_WIDTH = {"filter_size_scale": 0.25, "resample_alpha": 0.25, "endpoints_num_filters": 64,
                   "head_num_convs": 4, "head_num_filters": 64}  # docs/facts.md §5.1 proxy
WIDTHS = {"proxy": ModelConfig(**PROXY_WIDTH), "full": ModelConfig.from_scaling("49")}  # full: SpineNet-49's own
NUM_CLASSES = 8  # a small label set, like the bundled synthetic data
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # glibc mallopt parameter numbers (malloc.h)


def keep_freed_memory() -> bool:
    """Make glibc's malloc keep freed blocks up to 32 MiB for reuse; False where that is not glibc.

    By default glibc serves large blocks with mmap and gives freed heap tops back to the kernel,
    so every training step page-faults its activations in again (measured: 4 MiB of fresh zeros
    take ~6 ms here, reused ones ~1 ms). Both models get the same setting.
    """
    try:
        libc = ctypes.CDLL("libc.so.6")
        return bool(libc.mallopt(M_MMAP_THRESHOLD, 32 << 20)) and bool(libc.mallopt(M_TRIM_THRESHOLD, 1 << 31))
    except (OSError, AttributeError):
        return False


def random_batch(batch: int, size: int, seed: int):
    """Images [B,3,S,S] and targets with 4 random boxes each."""
    gen = torch.Generator().manual_seed(seed)
    images = [torch.rand(3, size, size, generator=gen) for _ in range(batch)]
    targets = []
    for _ in range(batch):
        xy = torch.rand(4, 2, generator=gen) * size * 0.6
        wh = torch.rand(4, 2, generator=gen) * size * 0.35 + 4
        targets.append({"boxes": torch.cat([xy, xy + wh], dim=1),  # [4, 4] x1y1x2y2
                        "labels": torch.randint(0, NUM_CLASSES, (4,), generator=gen)})
    return images, targets


def make_step(model, channels_last: bool, compile_backbone: bool = False):
    """A closure doing one SGD train step on a batch; returns seconds taken."""
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    if channels_last:
        model.to(memory_format=torch.channels_last)
    if compile_backbone:
        model.backbone = torch.compile(model.backbone)
    model.train()

    def step(images, targets) -> float:
        start = time.perf_counter()
        losses = model(images, targets)
        loss = sum(losses.values())
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        return time.perf_counter() - start

    return step


def measure(size: int, batch: int, steps: int, warmup: int, channels_last: bool, compile_: bool = False,
            width: str = "proxy") -> dict:
    """Interleaved median step times, FLOPs and batch-norm output volume of both models at one input size."""
    config = WIDTHS[width]
    specs = {"spinenet-49": get_builtin("spinenet-49"), "r50-fpn": None}
    torch.manual_seed(0)
    stepper = {
        name: make_step(build_detector(spec, config, num_classes=NUM_CLASSES, image_size=size), channels_last, compile_)
        for name, spec in specs.items()
    }
    images, targets = random_batch(batch, size, seed=size)
    warm = {name: sum(stepper[name](images, targets) for _ in range(warmup)) for name in specs}
    times: dict[str, list[float]] = {name: [] for name in specs}
    for _ in range(steps):
        for name in specs:
            times[name].append(stepper[name](images, targets))
    summary = {name: describe_model(spec, config, num_classes=NUM_CLASSES, image_size=size)
               for name, spec in specs.items()}
    sn, r50 = median(times["spinenet-49"]), median(times["r50-fpn"])
    sn_sum, r50_sum = summary["spinenet-49"], summary["r50-fpn"]
    time_ratio, flops_ratio = sn / r50, sn_sum.multiply_adds / r50_sum.multiply_adds
    return {"input_size": size, "batch": batch, "steps": steps, "channels_last": channels_last, "compile": compile_,
            "width": width, "spinenet49_warmup_s": warm["spinenet-49"], "r50fpn_warmup_s": warm["r50-fpn"],
            "spinenet49_step_s": sn, "r50fpn_step_s": r50, "spinenet49_gmacs": sn_sum.multiply_adds / 1e9,
            "r50fpn_gmacs": r50_sum.multiply_adds / 1e9, "time_ratio": time_ratio, "flops_ratio": flops_ratio,
            "overhead": time_ratio / flops_ratio, "norm_ratio": sn_sum.norm_elements / r50_sum.norm_elements}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[128, 256, 384], help="square input sizes")
    parser.add_argument("--batch", type=int, default=4, help="images per step")
    parser.add_argument("--steps", type=int, default=8, help="timed steps per model and size")
    parser.add_argument("--warmup", type=int, default=2, help="untimed steps first")
    parser.add_argument("--channels-last", action="store_true", help="both models in channels_last")
    parser.add_argument("--compile", action="store_true", help="both backbones through torch.compile")
    parser.add_argument("--width", choices=sorted(WIDTHS), default="proxy", help="proxy widths or SpineNet-49's own")
    parser.add_argument("--keep-freed-memory", action="store_true", help="glibc malloc keeps freed memory (both models)")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    parser.add_argument("--out", default=None, help="output folder (default results/benchmarks)")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.keep_freed_memory and not keep_freed_memory():
        print("note: not glibc malloc; --keep-freed-memory had no effect", file=sys.stderr)
    rows = [measure(s, args.batch, args.steps, args.warmup, args.channels_last, args.compile, args.width)
            for s in args.sizes]
    print(f"machine: {machine_info()['processor']}, {torch.get_num_threads()} torch threads, torch {torch.__version__}, "
          f"{args.width} widths")
    if args.compile:
        print("untimed warm-up incl. compile, s: " + ", ".join(
            f"{r['input_size']} px: SN49 {r['spinenet49_warmup_s']:.1f} / R50 {r['r50fpn_warmup_s']:.1f}" for r in rows))
    print_table(["input", "SN49 s/step", "R50 s/step", "SN49 GMACs", "R50 GMACs", "time ratio", "FLOPs ratio", "overhead",
                 "norm ratio"],
                [[r["input_size"], r["spinenet49_step_s"], r["r50fpn_step_s"], r["spinenet49_gmacs"],
                  r["r50fpn_gmacs"], r["time_ratio"], r["flops_ratio"], r["overhead"], r["norm_ratio"]] for r in rows])
    print(f"wrote {write_json(output_name(args), {'args': vars(args), 'rows': rows}, args.out)}")
    return 0


def output_name(args) -> str:
    """proxy_step_speed[_full_width][_channels_last][_compile][_keep_freed].json, by the options used."""
    flags = [("_full_width", args.width == "full"), ("_channels_last", args.channels_last),
             ("_compile", args.compile), ("_keep_freed", args.keep_freed_memory)]
    return "proxy_step_speed" + "".join(suffix for suffix, on in flags if on)


if __name__ == "__main__":
    sys.exit(main())
