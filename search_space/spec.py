"""The architecture spec language: frozen `BlockSpec` and `ArchSpec`.

Feature indexing (docs/design.md §3.1): the m stem blocks are features 0..m-1 and spec entry k is feature
m+k. Every block names two parents by feature index, both earlier than itself, stored sorted; a
spec's `damage` (the paper's Table 9 ablation, `ablations.py`) may leave a block one live parent.
An `ArchSpec` is validated when it is built (see `validation.py`), so an instance is always valid.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from search_space.ablations import live_inputs
from search_space.validation import BLOCK_FN_NAMES, check_arch, check_block_fields

BOTTLENECK, RESIDUAL = BLOCK_FN_NAMES
BLOCK_FNS = BLOCK_FN_NAMES

# SpineNet's stem: two L2 bottleneck blocks after the 7x7/2 conv and 3x3/2 max-pool.
SPINENET_STEM: tuple[tuple[int, str], ...] = ((2, BOTTLENECK), (2, BOTTLENECK))


@dataclass(frozen=True)
class BlockSpec:
    """One scale-permuted block: its level, block type, two parent features, output flag."""

    level: int
    block_fn: str
    inputs: tuple[int, int]
    is_output: bool = False

    def __post_init__(self) -> None:
        check_block_fields(self.level, self.block_fn, self.inputs, self.is_output, where="block")
        object.__setattr__(self, "inputs", tuple(sorted(self.inputs)))


@dataclass(frozen=True)
class ArchSpec:
    """A whole backbone: stem chain, scale-permuted blocks and the output level range."""

    name: str
    blocks: tuple[BlockSpec, ...]
    stem: tuple[tuple[int, str], ...] = SPINENET_STEM
    min_level: int = 3
    max_level: int = 7
    note: str = field(default="", compare=False)
    # "" (intact) or a Table 9 connection damage: which parents are live (see `ablations.py`)
    damage: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "blocks", tuple(self.blocks))
        object.__setattr__(self, "stem", tuple(tuple(s) if isinstance(s, (list, tuple)) else s for s in self.stem))
        check_arch(self)

    @property
    def num_stem(self) -> int:
        """Number of stem blocks m; spec entry k is feature m + k."""
        return len(self.stem)

    @property
    def num_features(self) -> int:
        """Stem blocks plus scale-permuted blocks."""
        return len(self.stem) + len(self.blocks)

    def feature_level(self, feature: int) -> int:
        """Level of feature `feature` (stem or block)."""
        if feature < self.num_stem:
            return self.stem[feature][0]
        return self.blocks[feature - self.num_stem].level

    def feature_block_fn(self, feature: int) -> str:
        """Block type of feature `feature` (stem or block)."""
        if feature < self.num_stem:
            return self.stem[feature][1]
        return self.blocks[feature - self.num_stem].block_fn

    def live_inputs(self, k: int) -> tuple[int, ...]:
        """Parent features block `k` really takes: its two inputs, or one in a damaged spec."""
        return live_inputs(self.damage, self.blocks[k].inputs, self.num_stem + k)

    def output_features(self) -> dict[int, int]:
        """Map output level -> feature index of the block producing it."""
        return {
            b.level: self.num_stem + k for k, b in enumerate(self.blocks) if b.is_output
        }

    def renamed(self, name: str) -> ArchSpec:
        """The same architecture under another name."""
        return ArchSpec(name, self.blocks, self.stem, self.min_level, self.max_level, self.note, self.damage)
