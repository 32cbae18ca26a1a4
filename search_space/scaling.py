"""SpineNet scaling map (docs/facts.md §4.1): the official `SCALING_MAP` plus head, input and anchor size.

`49S-paper` is what the paper's 49S row measures (docs/facts.md §4.3): the official 49S map has
endpoints 128, but the paper's 12.0M / 33.8B are reproduced only with endpoints 256 and a
4x128 head. Both are offered; `49S` stays the official one.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from search_space.errors import SpecError


@dataclass(frozen=True)
class Scaling:
    """How one SpineNet model scales the shared block spec, and its RetinaNet head."""

    endpoints_num_filters: int  # channels of each P3..P7 endpoint (1x1 conv + BN + act)
    filter_size_scale: float  # multiplies the per-level base widths (L2 64 ... L7 256)
    resample_alpha: float  # alpha of the 1x1 squeeze in cross-scale resampling
    block_repeats: int  # each block is a chain of this many ResNet blocks
    head_num_convs: int  # shared convs in each of the class and box towers
    head_num_filters: int  # channels of those convs
    input_size: int  # the paper's square training/eval input for this model
    anchor_size: float  # base anchor size: 3 for models up to 96, 4 above (docs/facts.md §6.1)

    def to_dict(self) -> dict:
        """Plain dict of every field."""
        return asdict(self)

    def tf_scaling_entry(self) -> dict:
        """The four keys of TF Model Garden's SCALING_MAP entry."""
        return {
            "endpoints_num_filters": self.endpoints_num_filters,
            "filter_size_scale": self.filter_size_scale,
            "resample_alpha": self.resample_alpha,
            "block_repeats": self.block_repeats,
        }


SCALING_MAP: dict[str, Scaling] = {
    "49S": Scaling(128, 0.65, 0.5, 1, 4, 128, 640, 3.0),
    "49S-paper": Scaling(256, 0.65, 0.5, 1, 4, 128, 640, 3.0),
    "49": Scaling(256, 1.0, 0.5, 1, 4, 256, 640, 3.0),
    "96": Scaling(256, 1.0, 0.5, 2, 4, 256, 1024, 3.0),
    "143": Scaling(256, 1.0, 1.0, 3, 4, 256, 1280, 4.0),
    "143L": Scaling(256, 1.3, 1.0, 3, 4, 256, 1280, 4.0),
    "190": Scaling(512, 1.3, 1.0, 4, 7, 512, 1280, 4.0),
}


# Keys that Model Garden's SCALING_MAP lacks, with what their figures assume beyond its four keys.
HEAD_NOTES = {
    "49S-paper": "not one of Model Garden's keys: SpineNet-49S as the paper's table measures it "
    "(endpoints 256, not 128) with a RetinaNet head of 4 convs x 128 filters "
    "(head num_convs 4, num_filters 128 in Model Garden's RetinaNet head config)",
}


def get_scaling(model: str) -> Scaling:
    """The scaling of a SpineNet model id such as '49' or '190'.

    Raises:
        SpecError: unknown id, listing the known ones.
    """
    key = str(model).upper().replace("SPINENET-", "").replace("-PAPER", "-paper")
    if key not in SCALING_MAP:
        raise SpecError(f"unknown SpineNet model '{model}'; known models: {', '.join(SCALING_MAP)}")
    return SCALING_MAP[key]
