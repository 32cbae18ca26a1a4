"""The one SOURCE resolver every CLI verb uses for an architecture.

A SOURCE is a built-in spec name, a spec file (JSON or TF list), `r50-fpn` (the ResNet-FPN
baseline, for verbs that build models), or `RUN:TRIAL` / `RUN:best` (a run folder's stored
trial; needs the results store). Any spec SOURCE may end in `~DAMAGE` (`r0-sp53~sequential`): the
spec with its connections damaged as in the paper's Table 9 (`search_space/ablations.py`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from nas.run_folder import RunTrial
from search_space.ablations import DAMAGES, damage_connections
from search_space.builtins import BUILTIN_SPECS
from search_space.errors import UserInputError
from search_space.sources import load_spec
from search_space.spec import ArchSpec

R50_FPN = "r50-fpn"


@dataclass(frozen=True)
class Source:
    """A resolved SOURCE: a spec, or the ResNet-FPN baseline (spec is None)."""

    label: str
    spec: ArchSpec | None

    @property
    def is_baseline(self) -> bool:
        return self.spec is None


def known_sources() -> str:
    """Human list of the names a SOURCE may be."""
    return (", ".join([*BUILTIN_SPECS, R50_FPN]) + ", a spec file, RUN:TRIAL or RUN:best"
            + f", each spec optionally with ~{'|~'.join(DAMAGES)}")


def _split_damage(text: str) -> tuple[str, str] | None:
    base, sep, damage = text.rpartition("~")
    if not sep or not base or os.path.exists(text):
        return None
    if damage not in DAMAGES:
        raise UserInputError(f"SOURCE '{text}' ends in unknown damage '~{damage}'; use one of ~{', ~'.join(DAMAGES)}")
    return base, damage


def resolve_source(text: str, allow_baseline: bool = False) -> Source:
    """Resolve a SOURCE string.

    Raises:
        UserInputError: unknown name (listing the known ones), bad file, bad run/trial, the
            baseline where the verb needs a spec, or an unknown `~DAMAGE`.
    """
    damaged = _split_damage(text)
    if damaged is not None:
        base = resolve_source(damaged[0])
        spec = damage_connections(base.spec, damaged[1])
        return Source(spec.name, spec)
    if text == R50_FPN:
        if not allow_baseline:
            raise UserInputError(f"'{R50_FPN}' is a baseline model, not a spec; this verb needs a spec")
        return Source(R50_FPN, None)
    run_trial = RunTrial.find(text)
    if run_trial is not None:
        spec = run_trial.spec()
        return Source(spec.name, spec)
    if text not in BUILTIN_SPECS and not os.path.exists(text):
        raise UserInputError(f"unknown SOURCE '{text}'; known: {known_sources()}")
    spec = load_spec(text)
    return Source(spec.name, spec)
