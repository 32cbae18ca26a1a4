"""Controllers by short name. RL classes load lazily, so building `random` or `evolution`
never imports torch."""

from __future__ import annotations

from importlib import import_module

from controller.base import Controller, ControllerError
from search_space import SearchSpace

# short name -> "module:class"
CONTROLLERS: dict[str, str] = {
    "ppo": "controller.rl.controller:PPOController",
    "reinforce": "controller.rl.controller:ReinforceController",
    "evolution": "controller.evolution:Evolution",
    "random": "controller.random_search:RandomSearch",
}


def controller_class(name: str) -> type:
    """The class registered under `name`.

    Raises:
        ControllerError: unknown name (the message lists the known ones).
    """
    if name not in CONTROLLERS:
        raise ControllerError(f"unknown controller {name!r}; known: {', '.join(CONTROLLERS)}")
    module, cls = CONTROLLERS[name].split(":")
    return getattr(import_module(module), cls)


def build_controller(name: str, space: SearchSpace, seed: int = 0, **options) -> Controller:
    """A fresh controller `name` over `space`, seeded by `seed`.

    Args:
        name: one of `CONTROLLERS` (ppo, reinforce, evolution, random).
        space: the search space, e.g. `SearchSpace.from_seed("resnet50")`.
        seed: all randomness of proposal k derives from (seed, k).
        options: fields of the controller's config dataclass (e.g. `batch_size=4`).
    Returns:
        The controller.
    Raises:
        ControllerError: unknown name or option.
    """
    return controller_class(name)(space, seed, **options)
