"""The proxy-design study's trainings read as trainings of a tier, for the benchmarks that retrain
architectures (repro-mini, the ablations) to reuse instead of repeating them.

A study training counts as one of the tier's when the configuration it was trained with (recorded
in its provenance) equals the tier's in everything that shapes the training; the settings that
only change how the finished model is scored (precise BN, score threshold, area ranges) are
evaluation levers the study applied to the same final weights, so the tier's own combination is
read from the study's lever grid.
"""

from __future__ import annotations

from design_study.train import lever_name

EVALUATION_ONLY = ("tier", "precise_bn_batches", "precise_bn_epochs", "score_threshold", "area_ranges")
PER_JOB = ("epochs", "seed", "num_threads")  # set by each training job, compared through its own fields
METRICS = ("ap", "ap50", "ap75", "aps", "apm", "apl")


def training_config(proxy: dict, data: dict) -> dict | None:
    """What shapes a training: the proxy and data config dicts, read through today's config
    classes (settings added since take their defaults; a partial model dict is completed),
    without evaluation levers or per-job fields; None for a record today's configs cannot read."""
    from proxy_fidelity import normalized_tier

    from search_space.errors import UserInputError

    try:
        full = normalized_tier({"proxy": proxy, "data": data})
    except (UserInputError, KeyError, TypeError):
        return None
    full["proxy"] = {k: v for k, v in full["proxy"].items() if k not in EVALUATION_ONLY + PER_JOB}
    return full


def reward_lever(proxy: dict) -> str:
    """The study's lever key that scores as the tier scores its reward, e.g. 'precise60/0.02/relative'."""
    batches = proxy.get("precise_bn_batches", 0)
    return lever_name(f"precise{batches}" if batches else "raw", proxy["score_threshold"], proxy["area_ranges"])


def epoch_lever(proxy: dict) -> str:
    """The lever key that scores as the tier's evaluations before the last epoch do (BN statistics
    as trained unless the tier re-estimates them at every evaluation)."""
    batches = proxy.get("precise_bn_batches", 0)
    every = batches and proxy.get("precise_bn_epochs") == "every"
    return lever_name(f"precise{batches}" if every else "raw", proxy["score_threshold"], proxy["area_ranges"])


def as_tier_run(training: dict, lever: str, curve_lever: str | None = None) -> dict:
    """One study training in the retraining benchmarks' row form, scored by `lever`; with
    `curve_lever`, its per-epoch metrics too (`curve`, the epochs the study evaluated)."""
    metrics = training["final"][lever]
    row = {"schedule": "long", "arch": training["arch"], "seed": training["seed"], "epochs": training["epochs"],
           "status": training["status"], **{k: metrics.get(k) for k in METRICS},
           "flops": training["flops"], "params": training["params"], "train_seconds": training["train_seconds"],
           "reused_from": f"proxy_design:{training['key']}"}
    if curve_lever is not None:
        row["curve"] = [{"epoch": point["epoch"], **point["levers"][curve_lever]}
                        for point in training.get("curve", []) if curve_lever in point["levers"]]
    return row


def tier_runs(study: dict, resolved: dict) -> dict[tuple, dict]:
    """(arch, seed, epochs) -> run of every successful study training made with the tier's training
    configuration (`resolved`: the tier's proxy and data dicts), scored with the tier's levers,
    with its per-epoch curve where the study evaluated epochs (an empty list where it did not)."""
    wanted = training_config(resolved["proxy"], resolved["data"])
    lever, curve_lever = reward_lever(resolved["proxy"]), epoch_lever(resolved["proxy"])
    runs = {}
    for training in study.get("trainings", []):
        made_with = training.get("provenance", {})
        if training["status"] != "ok" or lever not in training.get("final", {}):
            continue
        if wanted is not None and training_config(made_with.get("proxy", {}), made_with.get("data", {})) == wanted:
            runs.setdefault((training["arch"], training["seed"], training["epochs"]),
                            as_tier_run(training, lever, curve_lever))
    return runs
