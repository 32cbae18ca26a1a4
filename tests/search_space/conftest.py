"""Shared helper of the search-space tests: every decision list of a small space, by brute force."""

import pytest


def _decision_lists(space, prefix=()):
    """All complete decision lists reachable through the public `mask`, depth first."""
    if len(prefix) == len(space.steps):
        return [prefix]
    return [leaf for c, ok in enumerate(space.mask(prefix)) if ok for leaf in _decision_lists(space, prefix + (c,))]


@pytest.fixture()
def all_decision_lists():
    """The brute-force enumerator `all_decision_lists(space) -> list of decision tuples`."""
    return _decision_lists
