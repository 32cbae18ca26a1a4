"""COCO-scale annotations: loading, validating, cleaning and splitting a COCO train2017-sized
annotation file (118,000 images, 860,000 boxes; `coco_scale_data.py` generates it) must take at
most 30 s and under 2 GB peak memory.

The generation is timed on its own and not counted. The measured path is the real one,
`prepare_data(DataConfig(kind="coco", images=..., annotations=..., heldout_images=5000))`, in a
fresh process (`--measure`) that reports:
- its imports' time and RSS, apart (torch comes with `DataConfig`; the RSS counts in the peak);
- the stages, through thin wrappers around the loader's own functions: JSON parse, pycocotools
  index, file-existence check, split; validation and cleaning is the rest of `load_coco`, freeing
  the parsed JSON as it returns included;
- the CPU time of `prepare_data` (below its wall time on a busy machine);
- its peak RSS, VmHWM read at its end (not `getrusage(RUSAGE_CHILDREN)`, whose maximum also
  counts the parent's pages a child holds between fork and exec).
The loader's counts are compared with what the generator planted.

    python benchmarks/coco_scale.py                # 118,000 images; writes results/benchmarks/coco_scale.json
    python benchmarks/coco_scale.py --quick        # 11,800 images
    python benchmarks/coco_scale.py --images 300   # any size (the held-out split scales with it)
    python benchmarks/coco_scale.py --polygon-points 26   # a file of train2017's 448 MB (coco_scale_26pt.json)
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from coco_scale_data import COCO_IMAGES, POLYGON_POINTS, generate
from common import print_table, write_json

NAME = "coco_scale"
REPO = Path(__file__).resolve().parent.parent
TARGET_SECONDS = 30.0
TARGET_BYTES = 2_000_000_000  # 2 GB (1,907 MiB)
COCO_HELDOUT = 5000
QUICK_IMAGES = COCO_IMAGES // 10
STAGES = ("json_parse", "pycocotools_index", "validation_cleaning", "file_existence", "split")


def heldout_for(images: int) -> int:
    """The held-out split: 5,000 of COCO's 118,000 images, in proportion for other sizes (>= 1)."""
    return max(1, round(COCO_HELDOUT * images / COCO_IMAGES))


def read_status_kib(field: str) -> int:
    """One `VmXXX` field of this process's /proc status, in KiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"/proc/self/status has no {field}")


def _timer(inner, name: str, seconds: dict):
    """`inner`, adding each call's wall time to `seconds[name]`."""
    def wrapper(*args, **kwargs):
        start = time.perf_counter()
        try:
            return inner(*args, **kwargs)
        finally:
            seconds[name] = seconds.get(name, 0.0) + time.perf_counter() - start

    return wrapper


@contextlib.contextmanager
def timed(targets: tuple, seconds: dict) -> Iterator[None]:
    """Each (module, function name) in `targets` timed into `seconds` for the block, then restored."""
    originals = [(module, name, getattr(module, name)) for module, name in targets]
    for module, name, inner in originals:
        setattr(module, name, _timer(inner, name, seconds))
    try:
        yield
    finally:
        for module, name, inner in originals:
            setattr(module, name, inner)


def stage_seconds(raw: dict) -> dict:
    """The stages from the wrapped functions' times: validation and cleaning is what `load_coco`
    spent outside parsing, indexing and the file check."""
    parse, index, files = raw["read_json"], raw["index_coco"], raw["_check_files_exist"]
    return {"json_parse": parse, "pycocotools_index": index,
            "validation_cleaning": raw["load_coco"] - parse - index - files,
            "file_existence": files, "split": raw["holdout_split"]}


def measure(images_dir: str, annotations: str, heldout: int) -> dict:
    """In this (fresh) process: import, then `prepare_data` once; times, peak RSS and counts."""
    start = time.perf_counter()
    from proxy_trainer.config import DataConfig
    from proxy_trainer.data import coco, prepare

    import_s, import_rss = time.perf_counter() - start, read_status_kib("VmRSS")
    raw: dict = {}
    targets = ((coco, "read_json"), (coco, "index_coco"), (coco, "_check_files_exist"), (prepare, "load_coco"),
               (prepare, "holdout_split"))
    cfg = DataConfig(kind="coco", images=images_dir, annotations=annotations, heldout_images=heldout)
    with timed(targets, raw):
        start, cpu = time.perf_counter(), time.process_time()
        data = prepare.prepare_data(cfg)
        prepare_s, prepare_cpu_s = time.perf_counter() - start, time.process_time() - cpu
    kept = sum(len(r.boxes) for part in (data.train, data.val) for r in part.images)
    return {"import_s": import_s, "rss_after_imports_mib": import_rss / 1024, "prepare_s": prepare_s,
            "prepare_cpu_s": prepare_cpu_s, "stages_s": stage_seconds(raw),
            "peak_rss_mib": read_status_kib("VmHWM") / 1024,
            "counts": {**data.summary(), "boxes_kept": kept}}


def run_child(images_dir: str, annotations: str, heldout: int) -> dict:
    """`measure` in a fresh interpreter (this checkout first on its path), plus its wall time."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])))
    command = [sys.executable, __file__, "--measure", images_dir, annotations, str(heldout)]
    start = time.perf_counter()
    proc = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"the measuring process failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    return {**result, "process_wall_s": wall}


def expected_counts(made, heldout: int) -> dict:
    """What the loader must report for the generated set."""
    return {"train_images": made.images - heldout, "val_images": heldout, "num_classes": 80,
            "dropped_boxes": made.degenerate, "clipped_boxes": made.overflowing,
            "boxes_kept": made.boxes - made.degenerate}


def print_rows(result: dict) -> None:
    run = result["measured"]
    print_table(["stage", "seconds"], [[name, run["stages_s"][name]] for name in STAGES]
                + [["prepare_data (all of it)", run["prepare_s"]], ["  its CPU time", run["prepare_cpu_s"]],
                   ["imports (not counted)", run["import_s"]]])
    print(f"\nprepare_data {run['prepare_s']:.1f} s = {result['seconds_vs_target']:.2f} x the {TARGET_SECONDS:.0f} s "
          f"target; peak RSS {run['peak_rss_mib']:.0f} MiB = {result['memory_vs_target']:.2f} x the 2 GB target "
          f"({run['rss_after_imports_mib']:.0f} MiB of it imports)")
    print(f"counts {run['counts']} match the planted ones: {result['counts_match']}")


def benchmark(images: int, seed: int, work: Path, polygon_points: int = POLYGON_POINTS) -> dict:
    """Generate `images` images under `work`, measure the load in a fresh process."""
    start = time.perf_counter()
    made = generate(work, images, seed=seed, polygon_points=polygon_points)
    generation_s = time.perf_counter() - start
    heldout = heldout_for(images)
    run = run_child(made.images_dir, made.annotations, heldout)
    expected = expected_counts(made, heldout)
    return {"images": made.images, "boxes": made.boxes, "seed": seed, "polygon_points": polygon_points,
            "heldout_images": heldout,
            "json_mib": made.json_bytes / 2**20, "placeholders_hard_linked": made.linked,
            "generation_s": generation_s, "planted": {"degenerate": made.degenerate, "overflowing": made.overflowing,
                                                      "crowd": made.crowd},
            "targets": {"seconds": TARGET_SECONDS, "peak_rss_bytes": TARGET_BYTES},
            "measured": run, "expected_counts": expected, "counts_match": run["counts"] == expected,
            "seconds_vs_target": run["prepare_s"] / TARGET_SECONDS,
            "memory_vs_target": run["peak_rss_mib"] * 2**20 / TARGET_BYTES,
            "meets_targets": run["prepare_s"] <= TARGET_SECONDS and run["peak_rss_mib"] * 2**20 < TARGET_BYTES}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=None, help=f"images to generate (default {COCO_IMAGES})")
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_IMAGES} images")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--polygon-points", type=int, default=POLYGON_POINTS,
                        help=f"vertices per segmentation polygon (default {POLYGON_POINTS}; 26 makes the file "
                             "train2017's 448 MB); the result then goes to coco_scale_<N>pt.json")
    parser.add_argument("--work", type=Path, default=None,
                        help="a new or empty folder to generate into (kept); default a temp folder, removed")
    parser.add_argument("--out", type=Path, default=None, help="folder of the JSON (default results/benchmarks)")
    parser.add_argument("--measure", nargs=3, metavar=("IMAGES_DIR", "ANNOTATIONS", "HELDOUT"),
                        help=argparse.SUPPRESS)
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure[0], args.measure[1], int(args.measure[2]))))
        return
    images = args.images or (QUICK_IMAGES if args.quick else COCO_IMAGES)
    if images < 2 or args.polygon_points < 3:
        print(f"--images is {images} and --polygon-points {args.polygon_points}; give at least 2 images (one to "
              "train on, one held out) and 3 points", file=sys.stderr)
        sys.exit(2)
    if args.work and args.work.exists() and any(args.work.iterdir()):
        print(f"--work {args.work} is not empty; give a new or empty folder", file=sys.stderr)
        sys.exit(2)
    work = args.work or Path(tempfile.mkdtemp(prefix="coco-scale-"))
    try:
        result = benchmark(images, args.seed, work, args.polygon_points)
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)
    print(f"generated {result['images']} images, {result['boxes']} boxes, {result['json_mib']:.0f} MiB of JSON "
          f"in {result['generation_s']:.1f} s (not counted)\n")
    print_rows(result)
    name = NAME if args.polygon_points == POLYGON_POINTS else f"{NAME}_{args.polygon_points}pt"
    print(f"wrote {write_json(name, result, args.out)}")


if __name__ == "__main__":
    main()
