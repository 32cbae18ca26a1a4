"""`ModelConfig`: every knob of the backbone, endpoints and RetinaNet head, as one frozen record.

Built from a SpineNet scaling (`from_scaling`, docs/facts.md §4.1) or from a plain dict (Hydra group
files, stored runs). Unknown keys and impossible values raise `ModelConfigError`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

from proxy_trainer.modeling.layers import ACTIVATIONS
from proxy_trainer.modeling.resample import POOL_FORMS
from search_space.errors import UserInputError
from search_space.scaling import Scaling, get_scaling


class ModelConfigError(UserInputError):
    """A model configuration value or key is not usable."""


@dataclass(frozen=True)
class ModelConfig:
    """Widths, depths, head and anchors of one detector (defaults: SpineNet-49)."""

    filter_size_scale: float = 1.0  # multiplies the per-level block widths (FILTER_SIZE_MAP)
    resample_alpha: float = 0.5  # width factor of the 1x1 squeeze in cross-scale resampling
    block_repeats: int = 1  # each spec block becomes a chain of this many ResNet blocks
    endpoints_num_filters: int = 256  # channels of P3..P7 fed to the head
    head_num_convs: int = 4  # 3x3 convs per class/box tower
    head_num_filters: int = 256  # channels of those tower convs
    anchor_size: float = 3.0  # base anchor = anchor_size * stride (3 for <=96, 4 above)
    min_level: int = 3  # lowest pyramid level the head sees (P3)
    max_level: int = 7  # highest pyramid level the head sees (P7)
    activation: str = "relu"  # 'relu' (paper protocols A/B) or 'swish' (protocol C)
    bn_momentum: float = 0.01  # PyTorch convention; = TF decay 0.99, the paper's SyncBN setting
    downsample_pool: str = "single"  # 'single' max-pool (tensorflow/tpu) | 'chain' of 3x3/2 pools (Model Garden)

    def __post_init__(self) -> None:
        positive = ("filter_size_scale", "resample_alpha", "block_repeats", "endpoints_num_filters",
                    "head_num_filters", "anchor_size")
        for name in positive:
            if not getattr(self, name) > 0:
                raise ModelConfigError(f"model.{name} is {getattr(self, name)!r}; it must be > 0")
        if self.head_num_convs < 0:
            raise ModelConfigError(f"model.head_num_convs is {self.head_num_convs}; it must be >= 0")
        if not 1 <= self.min_level <= self.max_level <= 7:
            raise ModelConfigError(
                f"model levels {self.min_level}..{self.max_level} are invalid; need 1 <= min_level <= max_level <= 7"
            )
        if self.activation not in ACTIVATIONS:
            raise ModelConfigError(f"model.activation '{self.activation}' is unknown; use one of {', '.join(ACTIVATIONS)}")
        if self.downsample_pool not in POOL_FORMS:
            raise ModelConfigError(
                f"model.downsample_pool '{self.downsample_pool}' is unknown; use one of {', '.join(POOL_FORMS)}"
            )
        if not 0.0 < self.bn_momentum <= 1.0:
            raise ModelConfigError(f"model.bn_momentum is {self.bn_momentum}; it must be in (0, 1]")

    @classmethod
    def from_scaling(cls, scaling: Scaling | str, **overrides) -> ModelConfig:
        """The config of a SpineNet model ('49S', '49S-paper', '49', '96', '143', '143L', '190').

        Args:
            scaling: a `search_space.scaling.Scaling` or a model id.
            overrides: fields to change afterwards (e.g. activation='swish').
        Raises:
            UserInputError: unknown model id or bad override.
        """
        if isinstance(scaling, str):
            scaling = get_scaling(scaling)
        base = {
            "filter_size_scale": scaling.filter_size_scale,
            "resample_alpha": scaling.resample_alpha,
            "block_repeats": scaling.block_repeats,
            "endpoints_num_filters": scaling.endpoints_num_filters,
            "head_num_convs": scaling.head_num_convs,
            "head_num_filters": scaling.head_num_filters,
            "anchor_size": scaling.anchor_size,
        }
        return cls.from_dict({**base, **overrides})

    @classmethod
    def from_dict(cls, data: dict) -> ModelConfig:
        """A config from a plain dict; missing keys keep their defaults.

        Raises:
            ModelConfigError: not a dict, unknown keys (named), or wrong value types.
        """
        if not isinstance(data, dict):
            raise ModelConfigError(f"model config must be a mapping, got {type(data).__name__}")
        known = {f.name: f for f in fields(cls)}
        unknown = sorted(set(data) - set(known))
        if unknown:
            raise ModelConfigError(f"unknown model config keys: {', '.join(unknown)}; known: {', '.join(known)}")
        return cls(**{k: _coerce(k, v, known[k].default) for k, v in data.items()})

    def to_dict(self) -> dict:
        """Plain JSON-able dict of every field."""
        return asdict(self)


def _coerce(name: str, value, default):
    """Check a value against its field's type (int fields take ints, float fields numbers)."""
    kind = type(default)
    ok = isinstance(value, kind) and not isinstance(value, bool)
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if not ok:
        raise ModelConfigError(f"model.{name} is {value!r}; it must be a {kind.__name__}")
    return value
