"""`nas train SOURCE [overrides]`: one proxy training without Ray, for debugging a spec.

Composes `nas/conf/train.yaml` (groups `proxy`, `data`) with Hydra's compose API, turns the
groups into `ProxyConfig`/`DataConfig` once, trains with a progress bar on stderr, and prints the
metrics as one JSON line, the last line of stdout. Exit 0 when training finished, 1 on a
NaN/inf loss (the JSON says why), 2 on bad input.
"""

from __future__ import annotations

import json
import sys

from nas.config import CONF_DIR
from nas.sources import resolve_source
from search_space.errors import UserInputError
from search_space.trial_result import TrialStatus

TRAIN_CONFIG = "train"
TRAIN_GROUPS = ("proxy", "data")


class TrainConfigError(UserInputError):
    """Overrides of `nas train`/`nas data check` that do not compose."""


def compose_train_config(overrides: list[str] | tuple[str, ...] = ()):
    """Compose `train.yaml` with Hydra overrides into typed configs.

    Returns:
        (ProxyConfig, DataConfig).
    Raises:
        TrainConfigError: unknown group option or key, malformed override. ConfigError: bad values.
    """
    from hydra import compose, initialize_config_dir
    from hydra.errors import HydraException
    from omegaconf import OmegaConf
    from omegaconf.errors import OmegaConfBaseException

    from proxy_trainer.config import DataConfig, ProxyConfig

    try:
        with initialize_config_dir(config_dir=CONF_DIR, version_base=None, job_name="nas-train"):
            plain = OmegaConf.to_container(compose(config_name=TRAIN_CONFIG, overrides=list(overrides)), resolve=True)
    except (HydraException, OmegaConfBaseException) as err:
        first = (str(err).strip().splitlines() or [type(err).__name__])[0]
        raise TrainConfigError(f"bad override: {first} (groups: {', '.join(TRAIN_GROUPS)})") from None
    return ProxyConfig.from_dict(plain["proxy"]), DataConfig.from_dict(plain["data"])


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


def _epoch_line(report) -> str:
    """One epoch's line from its `EpochReport`."""
    ap, ap50 = ("-" if report.metrics.get(k) is None else f"{report.metrics[k]:.4f}" for k in ("ap", "ap50"))
    return f"epoch {report.epoch}: loss {report.loss:.4f}  AP {ap}  AP50 {ap50}"


def run(args) -> int:
    from proxy_trainer.train import train_and_evaluate

    source = resolve_source(args.source, allow_baseline=True)
    proxy, data = compose_train_config(args.overrides)
    bar = _Bar()
    try:
        result = train_and_evaluate(source.spec, proxy, data, report=lambda m: bar.line(_epoch_line(m)), progress=bar.step)
    finally:
        bar.close()
    sys.stdout.write(json.dumps({"source": source.label, "tier": proxy.tier, **result.flat()}) + "\n")
    return 0 if result.status == TrialStatus.OK else 1


def register(verbs) -> None:
    parser = verbs.add_parser(
        "train",
        help="train one proxy detector (no Ray) and print its metrics",
        description="Train the proxy RetinaNet for one architecture and score it with COCO AP on the "
        "held-out split, as one search trial would, without Ray. A progress bar goes to stderr; the "
        "last line of stdout is the metrics as JSON (status, ap, ap50, ap75, aps, apm, apl, params, "
        "flops, train_seconds, images_per_second, epochs_done). Exit 1 if the loss became NaN/inf.\n\n"
        "examples:\n  nas train spinenet-49 proxy=smoke\n  nas train r50-fpn proxy.epochs=2\n"
        "  nas train my_spec.json proxy=coco512 data=coco data.images=DIR data.annotations=FILE",
        formatter_class=__import__("argparse").RawDescriptionHelpFormatter,
    )
    parser.add_argument("source", metavar="SOURCE",
                        help="built-in name, spec file (JSON or TF list), RUN:TRIAL, or r50-fpn (the ResNet-FPN baseline)")
    parser.add_argument("overrides", nargs="*", metavar="OVERRIDE",
                        help="Hydra overrides: proxy=smoke|cpu|coco512, data=synthetic|coco, proxy.epochs=2, "
                        "data.images=DIR, data.annotations=FILE, data.heldout_images=N, ...")
    parser.set_defaults(func=run)
