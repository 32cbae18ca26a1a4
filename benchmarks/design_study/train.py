"""One training of the proxy-design study, run in a worker process, and its evaluation levers.

After chosen epochs the model is scored several ways from one set of weights: BN statistics as
trained (`raw`) or re-estimated (`precise<N>`, N training batches; the weights are untouched and
the trained statistics restored afterwards, so the run continues exactly as without it), both
area-range modes, and at the last epoch every score threshold of `THRESHOLDS` (applied to one
prediction made at the lowest; the curve keeps the tier's own threshold).
Stages after the screen evaluate after the last epoch only (`final_only`).
The final weights are saved (`torch.save` of the state dict) so further evaluation-only levers
need no retraining.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import time
from pathlib import Path

THRESHOLDS = (0.02, 0.05)  # the cpu tier's and torchvision's score thresholds
CURVE_BATCHES = (60,)  # precise-BN batch counts evaluated along the learning curve
FINAL_BATCHES = (15, 60)  # and at the last epoch


def lever_name(bn: str, threshold: float, area_ranges: str) -> str:
    """Key of one evaluation, e.g. 'precise60/0.02/relative'."""
    return f"{bn}/{threshold:g}/{area_ranges}"


def _rounded(metrics: dict) -> dict:
    return {k: None if v is None else round(v, 4) for k, v in metrics.items()}


def score_grid(gt, detections: list[dict], bn: str, thresholds: tuple[float, ...] = THRESHOLDS) -> dict[str, dict]:
    """Metrics of one prediction at each threshold and every area-range mode."""
    from proxy_trainer.evaluate import AREA_RANGES, coco_metrics

    grid = {}
    for threshold in thresholds:
        kept = [d for d in detections if d["score"] >= threshold]
        for area_ranges in AREA_RANGES:
            grid[lever_name(bn, threshold, area_ranges)] = _rounded(coco_metrics(gt, kept, area_ranges))
    return grid


@contextlib.contextmanager
def trained_statistics_kept(model):
    """Restore every buffer (BN running statistics) on exit; parameters are never written."""
    buffers = copy.deepcopy({name: b for name, b in model.named_buffers()})
    try:
        yield
    finally:
        for name, buffer in model.named_buffers():
            buffer.copy_(buffers[name])


class LeverEvaluator:
    """The study's `evaluator` for `train_and_evaluate`: the lever grid on chosen epochs, the
    tier's own metrics returned to the training loop."""

    def __init__(self, proxy, epochs: int, every: int | None) -> None:
        self.proxy, self.epochs, self.every = proxy, epochs, every
        self.curve: list[dict] = []
        self.final_state: dict | None = None
        self.gt = None

    def _wanted(self, epoch: int) -> bool:
        if self.every is None:  # no learning curve: the last epoch only
            return epoch == self.epochs
        return epoch == self.epochs or epoch % self.every == 0 or epoch <= min(self.every, 4)

    def __call__(self, model, loaders, data, epoch: int) -> dict:
        import torch

        from proxy_trainer.evaluate import ground_truth, predict
        from proxy_trainer.precise_bn import recompute_bn_statistics

        if not self._wanted(epoch):
            return {}
        device = next(model.parameters()).device
        self.gt = self.gt or ground_truth(data.val)
        started = time.perf_counter()
        final = epoch == self.epochs
        thresholds = THRESHOLDS if final else (self.proxy.score_threshold,)  # the curve: the tier's only
        grid = score_grid(self.gt, predict(model, loaders.val, data.val, device), "raw", thresholds)
        batches = FINAL_BATCHES if final else CURVE_BATCHES
        with torch.no_grad(), trained_statistics_kept(model):
            for count in batches:
                bn_started = time.perf_counter()
                used = recompute_bn_statistics(model, loaders.statistics, count, device)
                grid[f"precise{count}/seconds"] = round(time.perf_counter() - bn_started, 2)
                detections = predict(model, loaders.val, data.val, device)
                grid.update(score_grid(self.gt, detections, f"precise{count}", thresholds))
                grid[f"precise{count}/batches_used"] = used
        images = epoch * len(loaders.train) * loaders.train.batch_size
        self.curve.append({"epoch": epoch, "images_seen": images, "eval_seconds": round(time.perf_counter() - started, 2),
                           "levers": grid})
        if final:
            self.final_state = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
        return grid[lever_name("raw", self.proxy.score_threshold, self.proxy.area_ranges)]


def provenance(proxy, data) -> dict:
    """Where a stored training came from: commit, versions, settings hash (one function for every
    stored training, `proxy_trainer.provenance`), the date and the resolved configs."""
    from proxy_trainer.provenance import training_provenance

    return {**training_provenance(proxy, data), "date_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "proxy": proxy.to_dict(), "data": data.to_dict()}


def job_configs(job: dict):
    """(ProxyConfig, DataConfig) of one job: its overrides, epochs and seed, one thread."""
    from nas.config import load_proxy_and_data
    from proxy_trainer.data.cache import ensure_synthetic

    proxy, data = load_proxy_and_data(job["overrides"])
    proxy = dataclasses.replace(proxy, epochs=job["epochs"], seed=job["seed"], num_threads=1)
    if job.get("score_on_training"):  # the ceiling: the reward set is the training set itself
        images, annotations = ensure_synthetic(data.synth_images, data.synth_size, data.synth_seed, data.cache_dir,
                                               data.synth_scales)
        data = dataclasses.replace(data, val_images=images, val_annotations=annotations)
    return proxy, data


def _spec(job: dict):
    """The job's backbone: its spec JSON (random specs), a builtin by name, or None (r50-fpn)."""
    import json

    from design_study.plan import BASELINE
    from search_space import get_builtin
    from search_space.serialize import spec_from_dict

    if "spec_json" in job:
        return spec_from_dict(json.loads(job["spec_json"]))
    return None if job["arch"] == BASELINE else get_builtin(job["arch"])


def train_job(job: dict) -> dict:
    """Train one job on one thread; its stored row (metrics per lever, curve, provenance)."""
    import torch

    from proxy_trainer.train import train_and_evaluate

    proxy, data = job_configs(job)
    every = None if job.get("final_only") else 10 if job.get("score_on_training") else max(1, job["epochs"] // 12)
    evaluator = LeverEvaluator(proxy, job["epochs"], every)
    started = time.perf_counter()
    result = train_and_evaluate(_spec(job), proxy, data, evaluator=evaluator).flat()
    wall = time.perf_counter() - started
    if evaluator.final_state is not None:
        Path(job["weights"]).parent.mkdir(parents=True, exist_ok=True)
        torch.save(evaluator.final_state, job["weights"])
    keep = ("status", "error", "params", "flops", "train_seconds", "train_images", "val_images")
    return {**job, **{k: result.get(k) for k in keep},
            "wall_seconds": round(wall, 1), "curve": evaluator.curve,
            "final": evaluator.curve[-1]["levers"] if evaluator.curve else {},
            "area_ranges": _area_text(evaluator), "provenance": provenance(proxy, data)}


def _area_text(evaluator: LeverEvaluator) -> dict:
    from proxy_trainer.evaluate import AREA_RANGES, area_ranges_text

    return {mode: area_ranges_text(evaluator.gt, mode) for mode in AREA_RANGES} if evaluator.gt else {}
