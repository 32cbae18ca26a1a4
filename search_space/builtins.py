"""Built-in architectures by name: the official SpineNet-49, the R0-SP53 transcription, and the
in-space scale-decreased arrangement of ResNet-50 (`r50-sd`)."""

from __future__ import annotations

from search_space.errors import SpecError
from search_space.spec import ArchSpec, BlockSpec

B, R = "bottleneck", "residual"

# Official SPINENET_BLOCK_SPECS (tensorflow/tpu spinenet.py; docs/facts.md §3.1), verbatim.
SPINENET_49_TUPLES = (
    (2, B, (0, 1), False),
    (4, R, (0, 1), False),
    (3, B, (2, 3), False),
    (4, B, (2, 4), False),
    (6, R, (3, 5), False),
    (4, B, (3, 5), False),
    (5, R, (6, 7), False),
    (7, R, (6, 8), False),
    (5, B, (8, 9), False),
    (5, B, (8, 10), False),
    (4, B, (5, 10), True),
    (3, B, (4, 10), True),
    (5, B, (7, 12), True),
    (7, B, (5, 14), True),
    (6, B, (12, 14), True),
)

# R0-SP53 as a third party read it off the paper's Figure 4(c); all bottleneck (docs/facts.md §3.2).
R0_SP53_TUPLES = (
    (2, B, (0, 1), False),
    (3, B, (0, 1), False),
    (3, B, (2, 3), False),
    (4, B, (2, 4), False),
    (4, B, (3, 5), False),
    (3, B, (5, 6), False),
    (5, B, (4, 7), False),
    (4, B, (4, 8), False),
    (4, B, (8, 9), False),
    (4, B, (8, 10), False),
    (3, B, (4, 10), True),
    (4, B, (6, 7), True),
    (5, B, (8, 13), True),
    (7, B, (6, 9), True),
    (6, B, (7, 9), True),
)

R0_SP53_NOTE = (
    "UNOFFICIAL: a third-party transcription (hyperion-ml) of the paper's Figure 4(c); "
    "use as a sanity target, not as ground truth"
)
R50_SD_NOTE = (
    "in-space approximation of ResNet-50: intermediates in ascending level order, each fed by "
    "the two features built just before it, outputs L3..L7 in order; the true baseline is r50-fpn"
)

# ResNet-50 allocation of the ten intermediate blocks in the resnet50 search space (docs/facts.md §1.1).
R50_INTERMEDIATE_LEVELS = (2, 3, 3, 3, 4, 4, 4, 4, 4, 5)


def spec_from_tuples(name: str, tuples, note: str = "") -> ArchSpec:
    """An ArchSpec (SpineNet stem) from TF-style (level, block_fn, (in0, in1), is_output) tuples."""
    blocks = tuple(BlockSpec(level, fn, tuple(inputs), out) for level, fn, inputs, out in tuples)
    return ArchSpec(name=name, blocks=blocks, note=note)


def scale_decreased_tuples(intermediate_levels, output_levels, first_feature: int = 2):
    """Blocks in the given level order, each fed by the two features built just before it."""
    levels = [(lv, False) for lv in intermediate_levels] + [(lv, True) for lv in output_levels]
    return tuple(
        (lv, B, (first_feature + k - 2, first_feature + k - 1), out) for k, (lv, out) in enumerate(levels)
    )


def _builtin_specs() -> dict[str, ArchSpec]:
    return {
        "spinenet-49": spec_from_tuples("spinenet-49", SPINENET_49_TUPLES),
        "r0-sp53": spec_from_tuples("r0-sp53", R0_SP53_TUPLES, R0_SP53_NOTE),
        "r50-sd": spec_from_tuples(
            "r50-sd", scale_decreased_tuples(R50_INTERMEDIATE_LEVELS, range(3, 8)), R50_SD_NOTE
        ),
    }


BUILTIN_SPECS: dict[str, ArchSpec] = _builtin_specs()


def builtin_names() -> tuple[str, ...]:
    """Names of the built-in specs."""
    return tuple(BUILTIN_SPECS)


def get_builtin(name: str) -> ArchSpec:
    """A built-in spec by name.

    Raises:
        SpecError: unknown name, listing the known ones.
    """
    if name not in BUILTIN_SPECS:
        raise SpecError(f"unknown built-in spec '{name}'; known: {', '.join(BUILTIN_SPECS)}")
    return BUILTIN_SPECS[name]
