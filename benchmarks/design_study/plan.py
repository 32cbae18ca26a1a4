"""What the proxy-design study trains: its stages, settings and the jobs they make.

A setting is a list of config overrides on top of the `cpu` tier (as `nas search` composes them)
plus the epochs of its one long run; every setting uses a larger reward split than the tier (128
held-out images instead of 64) so that evaluation noise does not hide the differences looked for.
"""

from __future__ import annotations

from pathlib import Path

STAGES = ("ceiling", "screen", "choose", "confirm", "rank")
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
    # 256 = 2 x 2^7: every level's grid exactly halves the one below (the paper's inputs, 512 to 1536,
    # are all multiples of 128); at 96/160/224 the L6/L7 grids round up and the nearest upsampling
    # from them to L5 is by a fraction, which only networks with inner L6/L7 blocks (SpineNet-49) use.
    "s256-coco": (["proxy.image_size=256", "data.synth_size=256", *COCO_SCALES], 12),
    "s128-uniform-e6": (["proxy.image_size=128", "data.synth_size=128"], 6),  # the cpu tier's setting
}
CEILING = (["proxy.image_size=128", "data.synth_size=128", "data.synth_images=32"], 200)
CHOOSING_SEEDS = (1, 2)  # with the screen's seed 0: seeds 0-2 choose the tier
CONFIRMING_SEEDS = (3, 4, 5)  # fresh seeds confirm it
CONFIRMING_RANDOM = (19, 4)  # (sampling seed, count): random resnet50 specs not used in choosing
RANK_RANDOM = (23, 8)  # with the 4 references: 12 architectures for the rank-agreement stage
RANK_FACTOR = 3  # the longer schedule of the rank stage: this many times the setting's epochs
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


def _settings(quick: bool) -> dict[str, tuple[list[str], int]]:
    if quick:
        return QUICK["screen"]
    return {k: (["proxy=cpu", *STUDY_DATA, *v[0]], v[1]) for k, v in SCREEN.items()}


def _chosen(quick: bool, only: list[str] | None, stage: str) -> dict[str, tuple[list[str], int]]:
    settings = _settings(quick)
    unknown = sorted(set(only or ()) - set(settings))
    if unknown:
        raise SystemExit(f"unknown setting(s) {', '.join(unknown)}; known: {', '.join(settings)}")
    if stage != "screen" and not only:
        raise SystemExit(f"stage {stage} needs --only SETTING ... (the settings chosen from the screen)")
    return {k: v for k, v in settings.items() if not only or k in only}


def random_specs(seed: int, count: int) -> dict[str, str]:
    """Name -> spec JSON of `count` seeded samples of the resnet50 space."""
    import json

    from search_space import SearchSpace
    from search_space.serialize import spec_to_dict

    space = SearchSpace.from_seed("resnet50")
    specs = [space.sample_spec(seed, k) for k in range(count)]
    return {spec.name: json.dumps(spec_to_dict(spec), sort_keys=True) for spec in specs}


def _arch_jobs(stage, setting, archs: dict, seeds, overrides, epochs, models) -> list[dict]:
    return [{**_job(stage, setting, name, seed, overrides, epochs, models), **({"spec_json": spec} if spec else {})}
            for seed in seeds for name, spec in archs.items()]


def stage_jobs(stage: str, quick: bool, only: list[str] | None, models: Path) -> list[dict]:
    """screen: seed 0 of the references per setting; choose: seeds 1-2 of them; confirm: seeds
    3-5 of the references and of fresh random specs; rank: 12 architectures, one seed, at the
    setting's epochs and `RANK_FACTOR` times them. Only the screen draws learning curves; later
    stages evaluate (the whole lever grid) after their last epoch alone, at half the wall time."""
    references = dict.fromkeys(REFERENCES)
    out = []
    for name, (overrides, epochs) in _chosen(quick, only, stage).items():
        if stage == "screen":
            out += _arch_jobs(stage, name, references, (0,), overrides, epochs, models)
        elif stage == "choose":
            out += _arch_jobs(stage, name, references, CHOOSING_SEEDS, overrides, epochs, models)
        elif stage == "confirm":
            archs = {**references, **random_specs(*CONFIRMING_RANDOM)}
            out += _arch_jobs(stage, name, archs, CONFIRMING_SEEDS, overrides, epochs, models)
        else:
            archs = {**references, **random_specs(*RANK_RANDOM)}
            for factor in (1, RANK_FACTOR):
                out += _arch_jobs(stage, f"{name}-x{factor}", archs, (0,), overrides, epochs * factor, models)
    return out if stage == "screen" else [{**job, "final_only": True} for job in out]


def jobs(stage: str, *, quick: bool, only: list[str] | None, models: Path, jobs: int) -> list[dict]:
    """Every training of a stage; `jobs` (trainings at once) is recorded with each."""
    planned = ceiling_jobs(quick, models) if stage == "ceiling" else stage_jobs(stage, quick, only, models)
    return [{**job, "concurrent": jobs} for job in planned]


def prepare_all_data(planned: list[dict]) -> None:
    """Generate each job's synthetic data once, before worker processes share the cache."""
    from design_study.train import job_configs
    from proxy_trainer.data.prepare import prepare_data

    for job in {tuple(job["overrides"]): job for job in planned}.values():
        prepare_data(job_configs(job)[1])
