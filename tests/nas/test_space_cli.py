"""`nas space` and `nas sample`: sizes and options, JSON output, valid seeded JSON lines, errors."""

import json

import pytest

from nas.cli import main
from search_space.serialize import spec_from_dict
from search_space.space import SearchSpace


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_space_text_labels_paper_counts_and_decision_lists(capsys):
    code, out, err = run(capsys, "space")
    assert code == 0 and err == ""
    assert "search space 'resnet50'" in out
    assert "orderings, paper (N-5)!*5! (blocks distinct)" in out and "435,456,000" in out
    assert "1,062,485,424,000,000,000" in out  # connections under the window rule
    assert "distinct decision lists of this space (exact, from the masks)" in out
    assert "22,079,264,974,776,705,849,753,600,000,000,000" in out
    assert "distinct architectures (specs) of this space (exact)" in out
    assert "332,166,115,706,838,492,119,040,000,000,000" in out
    assert "decisions: 70 total, 10 base_level, 5 output_level" in out


@pytest.mark.parametrize("seed_name", ["resnet50", "r0-sp53", "r14-sp39", "r23-sp30", "r35-sp18"])
def test_space_json_is_exact_and_matches_the_options(capsys, seed_name):
    code, out, _ = run(capsys, "space", "--space", seed_name, "--json")
    data = json.loads(out)
    space = SearchSpace.from_seed(seed_name)
    assert code == 0
    assert data["options"] == space.options.to_dict()
    assert data["steps"]["total"] == len(space.steps)
    assert data["sizes"]["paper_orderings"]["value"] == {
        "resnet50": 435_456_000, "r0-sp53": 435_456_000, "r14-sp39": 4_838_400, "r23-sp30": 14_400, "r35-sp18": 120,
    }[seed_name]  # fmt: skip
    assert isinstance(data["sizes"]["decision_lists"]["value"], int)


def test_space_options_on_the_command_line(capsys):
    code, out, _ = run(capsys, "space", "--space", "r0-sp53", "--ordering", "hourglass", "--window", "4",
                       "--adjustments", "on", "--json")  # fmt: skip
    options = json.loads(out)["options"]
    assert code == 0
    assert (options["ordering"], options["window"], options["level_offsets"]) == ("hourglass", 4, [-1, 0, 1, 2])


def test_sample_prints_valid_seeded_json_lines(capsys):
    code, out, err = run(capsys, "sample", "--n", "4", "--seed", "7")
    lines = out.splitlines()
    space = SearchSpace.from_seed("resnet50")
    assert code == 0 and err == "" and len(lines) == 4
    for k, line in enumerate(lines):
        data = json.loads(line)
        spec = spec_from_dict(data)  # validates
        assert spec.name == f"resnet50-s7-{k}"
        assert tuple(data["decisions"]) == space.sample(7, k)
        assert space.decode(data["decisions"], name=spec.name) == spec
    assert run(capsys, "sample", "--n", "4", "--seed", "7")[1] == out  # same command, same lines


def test_sample_in_a_fixed_ordering_space(capsys):
    code, out, _ = run(capsys, "sample", "--space", "r35-sp18", "--ordering", "fish", "--n", "2")
    for line in out.splitlines():
        outputs = [b["level"] for b in json.loads(line)["blocks"] if b["is_output"]]
        assert outputs == [3, 4, 5, 6, 7]
    assert code == 0


@pytest.mark.parametrize(
    "argv, message",
    [
        (("space", "--window", "1"), "nas space: error: window 1 is below 2"),
        (("sample", "--n", "0"), "argument --n: 0 is outside [1, 100000]"),
        (("sample", "--n", "x"), "argument --n: 'x' is not an integer"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(capsys, argv, message):
    try:
        code = main(list(argv))
    except SystemExit as exit_:
        code = exit_.code
    err = capsys.readouterr().err
    assert code == 2
    assert message in err and err.count("\n") == 1


def test_unknown_space_is_rejected_with_the_known_ones(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["space", "--space", "resnet51"])
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and "r35-sp18" in err and err.count("\n") == 1


def test_dead_blocks_forbid_in_space_and_sample(capsys):
    from search_space.reachability import dead_features

    code, out, _ = run(capsys, "space", "--dead-blocks", "forbid", "--json")
    data = json.loads(out)
    assert code == 0 and data["options"]["dead_blocks"] == "forbid" and data["dead_free_share"]["draws"] == 1000
    assert "SAMPLED ESTIMATE" in data["sizes"]["decision_lists"]["label"]
    code, out, _ = run(capsys, "space", "--dead-blocks", "forbid")
    assert code == 0 and "dead_free_share: 0." in out and "SAMPLED ESTIMATE" in out
    code, out, _ = run(capsys, "sample", "--dead-blocks", "forbid", "--n", "4", "--seed", "7")
    specs = [spec_from_dict(json.loads(line)) for line in out.splitlines()]
    assert code == 0 and len(specs) == 4 and not any(dead_features(s) for s in specs)
