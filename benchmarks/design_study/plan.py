"""What the proxy-design study trains: its stages, settings and the jobs they make.

A setting is a list of config overrides on top of the `cpu` tier (as `nas search` composes them)
plus the epochs of its one long run; every setting uses a larger reward split than the tier (128
held-out images instead of 64) so that evaluation noise does not hide the differences looked for.
"""

from __future__ import annotations

from pathlib import Path

STAGES = ("ceiling", "screen", "final")
REFERENCES = ("r50-sd", "r50-fpn", "r0-sp53", "spinenet-49")
CEILING_ARCHS = ("r50-fpn", "spinenet-49")
BASELINE = "r50-fpn"  # trained with spec None
STUDY_DATA = ["data.synth_images=364", "data.heldout_images=128"]  # 236 training images, as the tier

COCO_SCALES = ["data.synth_scales=coco", "proxy.area_ranges=relative"]  # COCO's object mix, scored relative
# name -> (overrides after proxy=cpu, epochs of the long run). Sizes: synthetic images at least
# as large as the input (never upsampled); coco-profile settings score with relative area ranges.
SCREEN = {  # in the order they are trained
    "s96-coco": (["proxy.image_size=96", "data.synth_size=128", *COCO_SCALES], 12),
    "s160-coco": (["proxy.image_size=160", "data.synth_size=160", *COCO_SCALES], 12),
    "s160-coco-e24": (["proxy.image_size=160", "data.synth_size=160", *COCO_SCALES], 24),
    "s224-coco": (["proxy.image_size=224", "data.synth_size=224", *COCO_SCALES], 12),
    "s96-uniform": (["proxy.image_size=96", "data.synth_size=128"], 12),
    "s160-uniform": (["proxy.image_size=160", "data.synth_size=160"], 12),
    "s160-coco-anchor2": (["proxy.image_size=160", "data.synth_size=160", *COCO_SCALES, "proxy.model.anchor_size=2.0"], 12),
    "s96-uniform-e36": (["proxy.image_size=96", "data.synth_size=128"], 36),
    "s96-coco-e36": (["proxy.image_size=96", "data.synth_size=128", *COCO_SCALES], 36),
}
CEILING = (["proxy.image_size=128", "data.synth_size=128", "data.synth_images=32"], 200)
FINAL: dict[str, tuple[list[str], int]] = {}  # filled from the screen's evidence
CHOOSING_SEEDS, CONFIRMING_SEEDS, CONFIRMING_RANDOM = (0, 1, 2), (3, 4, 5), 4
QUICK = {  # tiny settings for tests: 64-px images, 2 epochs
    "ceiling": (["proxy=smoke", "data.synth_size=64", "data.synth_images=8"], 2),
    "screen": {"q64": (["proxy=smoke", "data.synth_size=64", "data.synth_images=24", "data.heldout_images=8"], 2)},
}


def _job(stage: str, setting: str, arch: str, seed: int, overrides: list[str], epochs: int, models: Path) -> dict:
    key = f"{stage}/{setting}/{arch}/seed{seed}"
    return {"key": key, "stage": stage, "setting": setting, "arch": arch, "seed": seed, "epochs": epochs,
            "overrides": overrides, "weights": str(models / f"{key.replace('/', '__')}.pt")}


def ceiling_jobs(quick: bool, models: Path) -> list[dict]:
    """The two references overfitting a small subset, scored on that subset (`train` sees
    `score_on_training`)."""
    overrides, epochs = QUICK["ceiling"] if quick else (["proxy=cpu", *CEILING[0]], CEILING[1])
    jobs = [_job("ceiling", "overfit32", arch, 0, overrides, epochs, models) for arch in CEILING_ARCHS]
    return [{**job, "score_on_training": True} for job in jobs]


def screen_jobs(quick: bool, only: list[str] | None, models: Path) -> list[dict]:
    """One seed (0) of each reference per screen setting."""
    settings = QUICK["screen"] if quick else {k: (["proxy=cpu", *STUDY_DATA, *v[0]], v[1]) for k, v in SCREEN.items()}
    unknown = sorted(set(only or ()) - set(settings))
    if unknown:
        raise SystemExit(f"unknown setting(s) {', '.join(unknown)}; known: {', '.join(settings)}")
    return [_job("screen", name, arch, 0, overrides, epochs, models)
            for name, (overrides, epochs) in settings.items() if not only or name in only
            for arch in REFERENCES]


def jobs(stage: str, *, quick: bool, only: list[str] | None, models: Path, jobs: int) -> list[dict]:
    """Every training of a stage; `jobs` (trainings at once) is recorded with each."""
    if stage == "ceiling":
        planned = ceiling_jobs(quick, models)
    elif stage == "screen":
        planned = screen_jobs(quick, only, models)
    else:
        raise SystemExit("stage 'final' is planned once the screen has chosen its settings (FINAL is empty)")
    return [{**job, "concurrent": jobs} for job in planned]


def prepare_all_data(planned: list[dict]) -> None:
    """Generate each job's synthetic data once, before worker processes share the cache."""
    from design_study.train import job_configs
    from proxy_trainer.data.prepare import prepare_data

    for job in {tuple(job["overrides"]): job for job in planned}.values():
        prepare_data(job_configs(job)[1])
