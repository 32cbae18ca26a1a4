"""Every rule of the spec language, table-driven: each bad spec is refused with a message that
names the rule (and, where there is one, the block and the value)."""

import copy
import json

import pytest

from search_space import BUILTIN_SPECS, ArchSpec, BlockSpec, SpecError, spec_from_dict, spec_to_dict
from search_space.serialize import spec_from_json

GOOD = spec_to_dict(BUILTIN_SPECS["spinenet-49"])


def mutated(path, value=None, delete=False):
    data = copy.deepcopy(GOOD)
    target = data
    for key in path[:-1]:
        target = target[key]
    if delete:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return data


BAD_SPECS = [
    # (id, data, fragments the message must contain)
    ("parent-not-earlier", mutated(["blocks", 7, "inputs"], [6, 9]), ["block 7", "input 9", "inputs must be < 9"]),
    ("parent-is-self", mutated(["blocks", 0, "inputs"], [1, 2]), ["block 0", "input 2", "< 2"]),
    ("identical-parents", mutated(["blocks", 3, "inputs"], [4, 4]), ["block 3", "input 4 twice", "different"]),
    ("negative-input", mutated(["blocks", 2, "inputs"], [-1, 3]), ["block 2", "-1", "non-negative"]),
    ("float-input", mutated(["blocks", 2, "inputs"], [2.0, 3]), ["block 2", "2.0", "integer"]),
    ("bool-input", mutated(["blocks", 2, "inputs"], [True, 3]), ["block 2", "True", "integer"]),
    ("bool-level", mutated(["blocks", 4, "level"], True), ["block 4", "level True", "integer"]),
    ("string-level", mutated(["blocks", 4, "level"], "6"), ["block 4", "'6'", "integer"]),
    ("level-too-high", mutated(["blocks", 4, "level"], 8), ["block 4", "level 8", "[1, 7]"]),
    ("level-zero", mutated(["blocks", 1, "level"], 0), ["block 1", "level 0", "[1, 7]"]),
    ("unknown-block-fn", mutated(["blocks", 5, "block_fn"], "mbconv"), ["block 5", "'mbconv'", "bottleneck, residual"]),
    ("three-inputs", mutated(["blocks", 5, "inputs"], [1, 2, 3]), ["block 5", "exactly two"]),
    ("one-input", mutated(["blocks", 5, "inputs"], [1]), ["block 5", "exactly two"]),
    ("inputs-not-list", mutated(["blocks", 5, "inputs"], "1,2"), ["block 5", "exactly two"]),
    ("is-output-int", mutated(["blocks", 5, "is_output"], 1), ["block 5", "is_output", "true or false"]),
    ("missing-output", mutated(["blocks", 14, "is_output"], False), ["no output block at level(s) [6]"]),
    ("duplicate-output", mutated(["blocks", 9, "is_output"], True), ["second output at level 5", "exactly one"]),
    ("empty-blocks", mutated(["blocks"], []), ["no blocks"]),
    ("blocks-not-list", mutated(["blocks"], {"a": 1}), ["'blocks'", "list"]),
    ("missing-blocks", mutated(["blocks"], delete=True), ["no 'blocks' field"]),
    ("block-not-object", mutated(["blocks", 0], [2, "bottleneck"]), ["block 0", "JSON object"]),
    ("missing-level", mutated(["blocks", 0, "level"], delete=True), ["block 0", "no 'level' field"]),
    ("name-not-string", mutated(["name"], 49), ["'name'", "non-empty string"]),
    ("min-above-max", mutated(["min_level"], 7) | {"max_level": 3}, ["min_level 7", "max_level 3"]),
    ("min-level-bool", mutated(["min_level"], False), ["min_level", "integer"]),
    ("stem-empty", mutated(["stem"], []), ["stem is empty"]),
    ("stem-increasing-down", mutated(["stem"], [[3, "bottleneck"], [2, "bottleneck"]]), ["stem block 1", "never go down"]),
    ("stem-bad-entry", mutated(["stem"], [[2, "bottleneck"], 5]), ["stem block 1", "[level, block_fn]"]),
    ("not-an-object", [1, 2], ["JSON object"]),
]


@pytest.mark.parametrize("case_id, data, fragments", BAD_SPECS, ids=[c[0] for c in BAD_SPECS])
def test_bad_spec_is_refused_with_a_message_naming_the_rule(case_id, data, fragments):
    with pytest.raises(SpecError) as info:
        spec_from_dict(data)
    message = str(info.value)
    for fragment in fragments:
        assert fragment in message, f"{case_id}: {fragment!r} not in {message!r}"
    assert "\n" not in message


@pytest.mark.parametrize("text, fragment", [
    ('{"blocks": [{"level": NaN, "block_fn": "bottleneck", "inputs": [0, 1]}]}', "NaN"),
    ('{"blocks": [{"level": Infinity, "block_fn": "bottleneck", "inputs": [0, 1]}]}', "Infinity"),
    ("{not json", "not valid JSON"),
    ("[" * 100000 + "]" * 100000, "nested too deeply"),
])
def test_bad_json_text_is_refused(text, fragment):
    with pytest.raises(SpecError, match=fragment):
        spec_from_json(text, where="x.json")


def test_python_construction_validates_too():
    good = BUILTIN_SPECS["spinenet-49"]
    blocks = list(good.blocks)
    blocks[3] = BlockSpec(4, "bottleneck", (2, 7), False)
    with pytest.raises(SpecError, match="block 3 .* takes input 7"):
        ArchSpec("broken", tuple(blocks))


def test_inputs_are_stored_sorted():
    assert BlockSpec(3, "residual", (5, 2)).inputs == (2, 5)


def test_specs_are_frozen_and_hashable():
    spec = BUILTIN_SPECS["spinenet-49"]
    with pytest.raises(AttributeError):
        spec.name = "other"  # type: ignore[misc]
    assert hash(spec) == hash(spec_from_dict(json.loads(json.dumps(spec_to_dict(spec)))))
