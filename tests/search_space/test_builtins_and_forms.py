"""Built-in specs, JSON round trips, the TF Model Garden form (golden), scaling map and the
output-merge rule."""

import pytest

from search_space import (
    BUILTIN_SPECS,
    SCALING_MAP,
    SpecError,
    from_tf_text,
    get_builtin,
    get_scaling,
    spec_from_json,
    spec_to_json,
    to_tf_text,
)
from search_space.merge_rule import implicit_merges
from search_space.sources import load_spec, load_spec_file
from search_space.spec import SPINENET_STEM, ArchSpec
from search_space.tf_format import tf_block_tuples

# docs/facts.md §3.1, verbatim from the official SPINENET_BLOCK_SPECS
OFFICIAL_SPINENET_49 = """SPINENET_BLOCK_SPECS = [
    (2, 'bottleneck', (0, 1), False),
    (4, 'residual', (0, 1), False),
    (3, 'bottleneck', (2, 3), False),
    (4, 'bottleneck', (2, 4), False),
    (6, 'residual', (3, 5), False),
    (4, 'bottleneck', (3, 5), False),
    (5, 'residual', (6, 7), False),
    (7, 'residual', (6, 8), False),
    (5, 'bottleneck', (8, 9), False),
    (5, 'bottleneck', (8, 10), False),
    (4, 'bottleneck', (5, 10), True),
    (3, 'bottleneck', (4, 10), True),
    (5, 'bottleneck', (7, 12), True),
    (7, 'bottleneck', (5, 14), True),
    (6, 'bottleneck', (12, 14), True),
]
"""


def test_tf_export_of_spinenet_49_is_the_official_list():
    text = to_tf_text(get_builtin("spinenet-49"))
    _header, form, listing = text.split("\n", 2)
    assert form.startswith("# form: 15 entries") and "tensorflow/tpu's form" in form
    assert listing == OFFICIAL_SPINENET_49


def test_tf_import_of_the_official_list_gives_spinenet_49_back():
    assert from_tf_text(OFFICIAL_SPINENET_49, name="spinenet-49") == get_builtin("spinenet-49")
    bare = OFFICIAL_SPINENET_49.split("= ", 1)[1]
    assert from_tf_text(bare, name="spinenet-49") == get_builtin("spinenet-49")


def test_tf_export_refuses_a_non_spinenet_stem():
    spec = get_builtin("r50-sd")
    longer = ArchSpec("long-stem", spec.blocks, stem=SPINENET_STEM)
    assert tf_block_tuples(longer)
    other = ArchSpec("other", tuple(b for b in spec.blocks), stem=((2, "bottleneck"), (2, "residual")))
    with pytest.raises(SpecError, match="two L2 bottleneck stem blocks"):
        to_tf_text(other)


@pytest.mark.parametrize("text", [
    "__import__('os').system('echo hacked')",
    "SPINENET_BLOCK_SPECS = [(2, 'bottleneck', (0, 1), open('x'))]",
    "SPINENET_BLOCK_SPECS = [(2, 'bottleneck', (0, 1))]",
    "def f(:",
])
def test_tf_import_never_executes_and_refuses_non_literals(text):
    with pytest.raises(SpecError):
        from_tf_text(text)


def test_tf_scaling_entry_is_the_official_map():
    text = to_tf_text(get_builtin("spinenet-49"), get_scaling("190"), "190")
    assert ("SCALING_MAP['190'] = {'endpoints_num_filters': 512, 'filter_size_scale': 1.3, "
            "'resample_alpha': 1.0, 'block_repeats': 4}") in text


@pytest.mark.parametrize("name", sorted(BUILTIN_SPECS))
def test_json_round_trip(name, tmp_path):
    spec = BUILTIN_SPECS[name]
    assert spec_from_json(spec_to_json(spec)) == spec
    path = tmp_path / f"{name}.json"
    path.write_text(spec_to_json(spec))
    assert load_spec_file(path) == spec
    assert load_spec(str(path)) == spec


@pytest.mark.parametrize("name", sorted(BUILTIN_SPECS))
def test_builtins_have_fifteen_blocks_and_one_output_per_level(name):
    spec = BUILTIN_SPECS[name]
    assert len(spec.blocks) == 15 and spec.stem == SPINENET_STEM
    assert sorted(spec.output_features()) == [3, 4, 5, 6, 7]


def test_spinenet_49_facts():
    spec = get_builtin("spinenet-49")
    outputs = [b.level for b in spec.blocks if b.is_output]
    assert outputs == [4, 3, 5, 7, 6]  # output order P4, P3, P5, P7, P6
    residual = [b.level for b in spec.blocks if b.block_fn == "residual"]
    assert residual == [4, 6, 5, 7]
    counts = {lv: sum(b.level == lv for b in spec.blocks) for lv in range(2, 8)}
    assert counts == {2: 1, 3: 2, 4: 4, 5: 4, 6: 2, 7: 2}  # Table 1: {1,2,4,4,2,2}


def test_r0_sp53_is_marked_unofficial_and_matches_table_1():
    spec = get_builtin("r0-sp53")
    assert "UNOFFICIAL" in spec.note
    counts = {lv: sum(b.level == lv for b in spec.blocks) for lv in range(2, 8)}
    assert counts == {2: 1, 3: 4, 4: 6, 5: 2, 6: 1, 7: 1}


def test_r50_sd_is_scale_decreased():
    spec = get_builtin("r50-sd")
    levels = [b.level for b in spec.blocks]
    assert levels == [2, 3, 3, 3, 4, 4, 4, 4, 4, 5, 3, 4, 5, 6, 7]
    assert all(b.inputs == (k, k + 1) for k, b in enumerate(spec.blocks))


@pytest.mark.parametrize("name, expected", [
    ("spinenet-49", {14: (11,)}),  # docs/facts.md §2.3: only feature 11 merges, into the L5 output
    ("r0-sp53", {13: (11,)}),  # the transcription's "has 3 inputs" output block
    ("r50-sd", {}),
])
def test_output_merge_rule(name, expected):
    merges = {k: v for k, v in implicit_merges(BUILTIN_SPECS[name]).items() if v}
    assert merges == expected


def test_residual_never_merges_into_a_bottleneck_output():
    spec = get_builtin("spinenet-49")
    merged = [j for v in implicit_merges(spec).values() for j in v]
    assert all(spec.feature_block_fn(j) == "bottleneck" for j in merged)


SCALING_ROWS = {  # docs/facts.md §4.1 (official map) + §4.3 (49S-paper)
    "49S": (128, 0.65, 0.5, 1, 4, 128), "49S-paper": (256, 0.65, 0.5, 1, 4, 128),
    "49": (256, 1.0, 0.5, 1, 4, 256), "96": (256, 1.0, 0.5, 2, 4, 256),
    "143": (256, 1.0, 1.0, 3, 4, 256), "143L": (256, 1.3, 1.0, 3, 4, 256),
    "190": (512, 1.3, 1.0, 4, 7, 512),
}


@pytest.mark.parametrize("model", sorted(SCALING_ROWS))
def test_scaling_map(model):
    s = SCALING_MAP[model]
    row = (s.endpoints_num_filters, s.filter_size_scale, s.resample_alpha, s.block_repeats,
           s.head_num_convs, s.head_num_filters)
    assert row == SCALING_ROWS[model]
    assert s.anchor_size == (3.0 if model in ("49S", "49S-paper", "49", "96") else 4.0)


def test_unknown_names_list_the_known_ones():
    with pytest.raises(SpecError, match="known: spinenet-49, r0-sp53, r50-sd"):
        get_builtin("spinenet-50")
    with pytest.raises(SpecError, match="known models: 49S, 49S-paper, 49, 96, 143, 143L, 190"):
        get_scaling("77")
