"""The one ranking of a run's trials, used by the store's leaderboard, the closing report and
every inspection verb: trials with a reward, highest first, the earlier trial first on ties
(rows come in feedback order and the sort is stable). A trial without a reward has no rank."""

from __future__ import annotations

from collections.abc import Iterable


def ranked(trials: Iterable[dict], top: int | None = None) -> list[dict]:
    """Trial rows (in feedback order) with a reward, best first, at most `top` (all for None)."""
    order = sorted((t for t in trials if t["reward"] is not None), key=lambda t: -t["reward"])
    return order if top is None else order[:top]
