"""TF Model Garden's current SpineNet list (16 entries, the last an L2 output) read and written,
and the exported SCALING_MAP key that adds to Model Garden's map instead of replacing it."""

import ast

import pytest

from search_space import SpecError, from_tf_text, get_builtin, get_scaling, to_tf_text
from search_space.reachability import dead_features, unused_output_note, unused_outputs
from search_space.space import SearchSpace

L2_ENTRY = "    (2, 'bottleneck', (2, 13), True),\n"
MODEL_GARDEN_49 = to_tf_text(get_builtin("spinenet-49")).replace("]\n", L2_ENTRY + "]\n")


def test_the_16_entry_list_reads_and_keeps_its_l2_output():
    spec = from_tf_text(MODEL_GARDEN_49, name="mg-49")
    assert len(spec.blocks) == 16 and spec.blocks[:15] == get_builtin("spinenet-49").blocks
    assert unused_outputs(spec) == {2: 15}
    assert (spec.min_level, spec.max_level) == (3, 7)


def test_at_min_level_3_the_l2_output_is_dead_and_nothing_else_changes():
    spec = from_tf_text(MODEL_GARDEN_49)
    assert dead_features(spec) == (17,)
    assert dead_features(spec, min_level=2) == ()
    assert "block 15 (feature 17, L2) lies outside levels [3, 7]" in unused_output_note(spec)
    assert unused_output_note(spec, min_level=2) == ""


def test_encode_refuses_the_l2_output_in_one_line():
    spec = from_tf_text(MODEL_GARDEN_49)
    with pytest.raises(SpecError) as err:
        SearchSpace.from_seed("resnet50").encode(spec)
    message = str(err.value)
    assert "\n" not in message and "block 15 (feature 17) is an output at level 2" in message
    assert "no search space holds it" in message


def test_export_writes_the_l2_entry_only_for_a_spec_that_has_one():
    spec = from_tf_text(MODEL_GARDEN_49, name="mg-49")
    text = to_tf_text(spec)
    assert text.count("'bottleneck'") + text.count("'residual'") == 16 and L2_ENTRY in text
    assert "# form: Model Garden's, 16 entries with an extra L2 output entry" in text
    assert from_tf_text(text, name="mg-49") == spec
    assert L2_ENTRY not in to_tf_text(get_builtin("spinenet-49"))


def _scaling_assignments(text: str) -> tuple[list[str], dict]:
    """Names assigned whole, and SCALING_MAP[key] = literal assignments, of an exported text."""
    whole, keys = [], {}
    for node in ast.parse(text).body:
        for target in getattr(node, "targets", []):
            if isinstance(target, ast.Name):
                whole.append(target.id)
            elif isinstance(target, ast.Subscript) and getattr(target.value, "id", None) == "SCALING_MAP":
                keys[ast.literal_eval(target.slice)] = ast.literal_eval(node.value)
    return whole, keys


@pytest.mark.parametrize("model", ["49", "190", "49S-paper"])
def test_pasted_scaling_adds_a_key_and_keeps_model_gardens_map(model):
    whole, keys = _scaling_assignments(to_tf_text(get_builtin("spinenet-49"), get_scaling(model), model))
    assert whole == ["SPINENET_BLOCK_SPECS"]  # the map itself is never assigned, so its keys stay
    assert keys == {model: get_scaling(model).tf_scaling_entry()}


def test_49s_paper_is_its_own_key_with_its_head_setting():
    text = to_tf_text(get_builtin("spinenet-49"), get_scaling("49S-paper"), "49S-paper")
    assert "SCALING_MAP['49S-paper'] = {'endpoints_num_filters': 256" in text
    assert "4 convs x 128 filters" in text and "not one of Model Garden's keys" in text
