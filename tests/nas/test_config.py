"""Hydra composition of every group option into typed settings, comments on every option,
one-line errors for bad overrides, resume reading the stored config, and `nas search --help`."""

import os

import pytest

from nas.cli import main
from nas.config import (
    CONF_DIR,
    GROUPS,
    TRAIN_FILE,
    ConfigError,
    SearchConfig,
    compose_config,
    group_options,
    load_proxy_and_data,
    load_search_config,
)
from nas.store import ResultsStore

CASES = [(group, option) for group in GROUPS for option in group_options(group)]
NEEDS = {
    ("proxy", "replay"): ["replay.from=/some/run"],
    ("data", "coco"): ["data.images=/i", "data.annotations=/a.json"],
}
KIND_OF = {"synthetic_repro": "synthetic", "synthetic_classes": "synthetic"}  # data options that are another option's kind with other sizes


def test_groups_are_all_present():
    assert group_options("controller") == ["evolution", "ppo", "random", "reinforce"]
    assert group_options("space") == ["r0-sp53", "r14-sp39", "r23-sp30", "r35-sp18", "resnet50"]
    assert group_options("cluster") == ["local", "ray"] and group_options("scheduler") == ["asha", "fifo"]
    assert {"smoke", "cpu", "coco512", "replay"} <= set(group_options("proxy"))
    assert {"synthetic", "coco"} <= set(group_options("data"))


@pytest.mark.parametrize(("group", "option"), CASES)
def test_every_group_option_composes_into_typed_settings(group, option, tmp_path):
    plain = compose_config([f"{group}={option}", f"run.dir={tmp_path}", *NEEDS.get((group, option), [])])
    cfg = SearchConfig.from_dict(plain)
    typed = {
        "controller": lambda: cfg.controller.name,
        "space": lambda: cfg.space.seed,
        "cluster": lambda: cfg.cluster.kind,
        "scheduler": lambda: cfg.scheduler.name,
        "proxy": lambda: "replay" if cfg.is_replay else cfg.proxy.tier,
        "data": lambda: cfg.data.kind,
        "task": lambda: cfg.task.name,
        "predictor": lambda: "none" if cfg.predictor is None else cfg.predictor.kind,
    }[group]()
    assert typed == KIND_OF.get(option, option)
    assert cfg.run_dir == str(tmp_path) and cfg.db_path == str(tmp_path / "search.db")


def test_defaults_are_the_out_of_box_run():
    cfg = SearchConfig.from_dict(compose_config([]))
    assert (cfg.trials, cfg.concurrency, cfg.controller.name, cfg.proxy.tier, cfg.data.kind) == (
        16,
        2,
        "ppo",
        "cpu",
        "synthetic",
    )
    assert (cfg.cluster.kind, cfg.scheduler.name, cfg.space.seed) == ("local", "fifo", "resnet50")
    assert cfg.run_dir == os.path.abspath(os.path.join("results", "runs", cfg.run_name))
    assert cfg.run_name.startswith("search-")


@pytest.mark.parametrize("overrides", [[], ["proxy=repro"], ["proxy=smoke", "data.synth_images=48", "proxy.epochs=2"]])
def test_every_verb_gets_the_same_proxy_and_data_from_the_same_overrides(overrides):
    """`nas train` (train.yaml), `nas search`/`nas retrain`/the benchmarks (config.yaml) share one builder."""
    search = SearchConfig.from_dict(compose_config(overrides))
    assert load_proxy_and_data(overrides, TRAIN_FILE) == load_proxy_and_data(overrides) == (search.proxy, search.data)


def test_the_one_composition_words_errors_for_its_file():
    with pytest.raises(ConfigError, match=r"^bad override: .*\(groups: proxy, data, task\)$"):
        compose_config(["proxy=gpu"], TRAIN_FILE)
    with pytest.raises(ConfigError, match=r"^bad config override: .*; see 'nas search --help'\)$"):
        compose_config(["proxy=gpu"])
    with pytest.raises(ConfigError, match="the proxy tier is replay, which trains nothing"):
        load_proxy_and_data(["proxy=replay"])


def test_the_repro_tier_brings_its_data_and_the_command_line_still_wins():
    repro = SearchConfig.from_dict(compose_config(["proxy=repro"]))
    assert (repro.proxy.image_size, repro.proxy.area_ranges, repro.proxy.precise_bn_epochs) == (256, "relative", "last")
    data = repro.data
    assert (data.synth_size, data.synth_images, data.heldout_images, data.synth_scales) == (256, 364, 128, "coco")
    assert SearchConfig.from_dict(compose_config(["proxy=repro", "data=synthetic"])).data.synth_size == 128
    assert SearchConfig.from_dict(compose_config(["proxy=repro", "data.synth_size=512"])).data.synth_size == 512


def test_the_coco512_tier_brings_its_gpu_loader_and_the_command_line_still_wins():
    proxy, data = load_proxy_and_data(["proxy=coco512"])
    assert (proxy.amp, proxy.channels_last) == ("bf16", True)
    assert (data.kind, data.num_workers, data.persistent_workers, data.pin_memory) == ("synthetic", 8, True, True)
    coco = ["data=coco", "data.images=/i", "data.annotations=/a.json"]
    proxy, data = load_proxy_and_data(["proxy=coco512", *coco], TRAIN_FILE)
    assert (data.kind, data.num_workers, data.persistent_workers, data.pin_memory) == ("coco", 8, True, True)
    _, data = load_proxy_and_data(["proxy=coco512", "data.num_workers=2", "data.pin_memory=auto"])
    assert (data.num_workers, data.persistent_workers, data.pin_memory) == (2, True, "auto")
    _, data = load_proxy_and_data(["proxy=cpu"])
    assert (data.num_workers, data.persistent_workers, data.pin_memory) == (0, "auto", "auto")


def test_space_settings_build_the_space():
    cfg = SearchConfig.from_dict(compose_config(["space=r23-sp30"]))
    assert cfg.space.build().options.name == "r23-sp30"


SEARCH_FILES = ["config.yaml", "proxy/replay.yaml", "data/loader/gpu.yaml"] + [
    f"{group}/{option}.yaml"
    for group in ("controller", "space", "cluster", "scheduler")
    for option in group_options(group)
]


@pytest.mark.parametrize("name", SEARCH_FILES)
def test_every_option_has_a_comment(name):
    path = os.path.join(CONF_DIR, name)
    with open(path, encoding="utf-8") as handle:
        lines = handle.read().splitlines()
    for number, line in enumerate(lines, 1):
        text = line.strip()
        if text and not text.startswith("#") and (":" in text or text.startswith("- ")) and not text.endswith(":"):
            assert "#" in text, f"{path}:{number} has no comment: {text}"


@pytest.mark.parametrize(
    ("overrides", "match"),
    [
        (["controller=nope"], "controller"),
        (["bogus=1"], "bogus"),
        (["trials"], "override"),
        (["trials=0"], "at least 1"),
        (["scheduler.name=lottery"], "unknown scheduler"),
        (["proxy=replay"], "replay.from"),
        (["reward.hard=maybe"], "reward.hard='maybe': must be true or false"),
    ],
)
def test_bad_overrides_are_one_line_errors(overrides, match):
    with pytest.raises(ConfigError, match=match) as info:
        SearchConfig.from_dict(compose_config(overrides))
    assert "\n" not in str(info.value)


def test_resume_reads_the_stored_config(tmp_path):
    plain = compose_config([f"run.dir={tmp_path}", "trials=3", "controller=random"])
    store = ResultsStore(str(tmp_path / "search.db"))
    store.set_meta("config", plain)
    store.close()
    cfg, resuming = load_search_config([f"resume={tmp_path}"])
    assert resuming and (cfg.trials, cfg.controller.name, cfg.run_dir) == (3, "random", str(tmp_path))
    with pytest.raises(ConfigError, match="keeps its stored config"):
        load_search_config([f"resume={tmp_path}", "trials=5"])
    with pytest.raises(ConfigError, match="no search.db"):
        load_search_config([f"resume={tmp_path / 'nope'}"])


def test_search_help_lists_groups_and_how_to_override(capsys):
    with pytest.raises(SystemExit) as info:
        main(["search", "--help"])
    out = capsys.readouterr().out
    assert info.value.code == 0
    for group in GROUPS:
        assert f"{group}=" in out
    assert "evolution | ppo | random | reinforce" in out and "resume=" in out and "cluster.storage=" in out


def test_search_with_bad_data_stops_before_the_run_folder(capsys, tmp_path):
    run_dir = tmp_path / "run"
    code = main(["search", "data=coco", f"data.images={tmp_path}", f"data.annotations={tmp_path / 'no.json'}",
                 f"run.dir={run_dir}"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "no.json" in err
    assert not run_dir.exists()


def test_search_cli_bad_override_exit_2(capsys):
    assert main(["search", "controller=nope"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("nas search: error:") and err.count("\n") == 1


def test_space_dead_blocks_forbid_reaches_the_space():
    assert SearchConfig.from_dict(compose_config([])).space.build().options.dead_blocks == "allow"
    cfg = SearchConfig.from_dict(compose_config(["space.dead_blocks=forbid"]))
    assert cfg.space.build().options.dead_blocks == "forbid"
    with pytest.raises(ConfigError, match="unknown key space.dead_block; known: seed, overrides, dead_blocks"):
        SearchConfig.from_dict(compose_config(["+space.dead_block=forbid"]))


def test_the_reward_rule_comes_from_config_and_stores_before_hard_read_false(tmp_path):
    plain = compose_config([f"run.dir={tmp_path}", "reward.hard=true", "reward.target_flops=1e9",
                            "reward.flops_weight=-1", "reward.failed_penalty=-0.5"])
    rule = SearchConfig.from_dict(plain).reward
    assert (rule.hard, rule.target_flops, rule.flops_weight, rule.failed_penalty) == (True, 1e9, -1.0, -0.5)
    del plain["reward"]["hard"]  # a config stored before the key existed
    assert SearchConfig.from_dict(plain).reward.hard is False
