"""Random search: every proposal is a uniform draw over the masked decision sequence.

The k-th proposal is exactly `space.sample(seed, k)` (redraws for duplicates use the
controller's own streams of the same k), so random search, the evolution's initial population
and the space's seeded samples agree. Nothing is learned from rewards.
"""

from __future__ import annotations

from controller.base import BaseConfig, Controller, draw_uniform


class RandomSearch(Controller):
    """Uniform sampling over the search space (the baseline every controller must beat)."""

    name = "random"
    config_class = BaseConfig

    def _candidate(self, k: int, attempt: int) -> tuple[tuple[int, ...], dict]:
        return uniform_candidate(self, k, attempt), {}


def uniform_candidate(controller: Controller, k: int, attempt: int) -> tuple[int, ...]:
    """`space.sample(seed, k)` for the first draw of k, a uniform draw from the k-th stream otherwise."""
    if attempt == 0:
        return controller.space.sample(controller.seed, k)
    return draw_uniform(controller.space, controller.rng(k, attempt))
