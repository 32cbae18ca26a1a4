"""`nas train SOURCE [overrides]`: one proxy training without Ray, for debugging a spec.

Composes `nas/conf/train.yaml` (groups `proxy`, `data`, `task`) into `ProxyConfig`/`DataConfig`/
`TaskConfig` with the one composition and builders of `nas/config.py`, trains with a progress bar
on stderr (per epoch the loss and the task's headline metrics in percent, labelled by the task:
"AP 12.3  AP50 45.6", "top-1 40.0  top-5 80.0"), and prints the metrics as one JSON line (fractions
under their names: ap, ..., or top1, top5), the last line of stdout. Exit 0 when training
finished, 1 on a NaN/inf loss (the JSON says why), 2 on bad input.
"""

from __future__ import annotations

import json
import sys

from nas.config import TRAIN_FILE, compose_config, proxy_and_data, task_config
from nas.inspect.leaderboard import headline_metrics, percent
from nas.run_task import RunTask
from nas.sources import resolve_source
from search_space.trial_result import TrialStatus


class _Bar:
    """A rich progress bar on stderr that appears at the first training step (so data errors
    found before training stay one clean line)."""

    def __init__(self) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self.progress = Progress(TextColumn("[bold]train"), BarColumn(), MofNCompleteColumn(), TextColumn("steps"),
                                 TimeRemainingColumn(), console=Console(stderr=True))
        self.task = None

    def step(self, done: int, total: int) -> None:
        if self.task is None:
            self.progress.start()
            self.task = self.progress.add_task("train", total=total)
        self.progress.update(self.task, completed=done, total=total)

    def line(self, text: str) -> None:
        self.progress.console.print(text)

    def close(self) -> None:
        if self.task is not None:
            self.progress.stop()


def epoch_line(report, task: RunTask) -> str:
    """One epoch's line from its `EpochReport`: the loss and the task's headline metrics in percent."""
    metrics = "  ".join(f"{task.metrics.label(name)} {_percent(report.metrics.get(name))}"
                        for name in headline_metrics(task))
    return f"epoch {report.epoch}: loss {report.loss:.4f}  {metrics}"


def _percent(value: float | None) -> str:
    return "-" if value is None else percent(value)


def run(args) -> int:
    from proxy_trainer.train import train_and_evaluate

    source = resolve_source(args.source, allow_baseline=True)
    plain = compose_config(args.overrides, TRAIN_FILE)
    (proxy, data), task = proxy_and_data(plain), task_config(plain)
    run_task = RunTask.of_config(plain)
    bar = _Bar()
    try:
        result = train_and_evaluate(source.spec, proxy, data, report=lambda m: bar.line(epoch_line(m, run_task)),
                                    progress=bar.step, task=task)
    finally:
        bar.close()
    sys.stdout.write(json.dumps({"source": source.label, "tier": proxy.tier, **result.flat()}) + "\n")
    return 0 if result.status == TrialStatus.OK else 1


def register(verbs) -> None:
    parser = verbs.add_parser(
        "train",
        help="train one proxy model (no Ray) and print its metrics",
        description="Train the proxy model of the task for one architecture and score it on the "
        "held-out split, as one search trial would, without Ray: task=detection (default; RetinaNet, "
        "COCO AP) or task=classification (top-1, top-5). A progress bar goes to stderr; the last line "
        "of stdout is the metrics as JSON (status, the task's metrics: ap, ap50, ap75, aps, apm, apl "
        "or top1, top5; params, flops, train_seconds, images_per_second, epochs_done). Exit 1 if the "
        "loss became NaN/inf.\n\n"
        "examples:\n  nas train spinenet-49 proxy=smoke\n  nas train r50-fpn proxy.epochs=2\n"
        "  nas train spinenet-49 task=classification proxy=smoke\n"
        "  nas train my_spec.json proxy=coco512 data=coco data.images=DIR data.annotations=FILE",
        formatter_class=__import__("argparse").RawDescriptionHelpFormatter,
    )
    parser.add_argument("source", metavar="SOURCE",
                        help="built-in name, spec file (JSON or TF list), RUN:TRIAL, or r50-fpn (the ResNet-FPN baseline)")
    parser.add_argument("overrides", nargs="*", metavar="OVERRIDE",
                        help="Hydra overrides: task=detection|classification, proxy=smoke|cpu|coco512, "
                        "data=synthetic|coco, proxy.epochs=2, "
                        "data.images=DIR, data.annotations=FILE, data.heldout_images=N, ...")
    parser.set_defaults(func=run)
