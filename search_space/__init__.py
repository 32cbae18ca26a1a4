"""search_space: the language of architectures (pure standard library).

Specs (`ArchSpec`, `BlockSpec`), their validation, JSON and TF Model Garden forms, built-in
specs, the SpineNet scaling map, and the search space as a sequence of masked decisions.
"""

from search_space.builtins import BUILTIN_SPECS, get_builtin
from search_space.errors import SpecError, UserInputError
from search_space.scaling import SCALING_MAP, Scaling, get_scaling
from search_space.serialize import spec_from_dict, spec_from_json, spec_to_dict, spec_to_json
from search_space.sources import load_spec
from search_space.space import SearchSpace, Step
from search_space.space_options import SpaceOptions
from search_space.spec import SPINENET_STEM, ArchSpec, BlockSpec
from search_space.tf_format import from_tf_text, to_tf_text

__all__ = [
    "BUILTIN_SPECS",
    "SCALING_MAP",
    "SPINENET_STEM",
    "ArchSpec",
    "BlockSpec",
    "Scaling",
    "SearchSpace",
    "SpaceOptions",
    "SpecError",
    "Step",
    "UserInputError",
    "from_tf_text",
    "get_builtin",
    "get_scaling",
    "load_spec",
    "spec_from_dict",
    "spec_from_json",
    "spec_to_dict",
    "spec_to_json",
    "to_tf_text",
]
