"""The ``[results]`` section of territory.toml: the suppression threshold and the targets.

A target states the unit and the thing counted that its programme promised (« nombre » of
« pass numériques remis »). It is measured only by an indicator of the catalogue that counts
exactly that; when no data received can measure it, it names no indicator and says which data
would (``measurable_with``). A target that names an unknown indicator, or one that counts
something else, is reported at build time and shown « non renseigné »: never measured by a
proxy."""

from __future__ import annotations

import logging
import tomllib
from dataclasses import dataclass
from pathlib import Path

from transforms.catalogue import BY_ID, Indicator
from transforms.suppression import DEFAULT_THRESHOLD

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Target:
    id: str
    programme: str
    indicator: str | None  # None: no data received can measure it
    value: float
    start: str  # ISO dates, inclusive
    end: str
    source: str = ""
    unit: str = ""
    counts: str = ""
    measurable_with: str = ""


def target_problem(target: Target) -> str | None:
    """Why ``target`` cannot be compared with its indicator (in French), or None."""
    if target.indicator is None:
        if not target.measurable_with:
            return (f"L'objectif « {target.id} » ne nomme ni indicateur ni les données qui "
                    "permettraient de le mesurer (clé measurable_with).")
        return None
    ind = BY_ID.get(target.indicator)
    if ind is None:
        return (f"L'objectif « {target.id} » nomme l'indicateur « {target.indicator} », qui "
                "n'existe pas dans le catalogue (transforms/catalogue.py).")
    if (target.unit, target.counts) != (ind.unit, ind.counts):
        return (f"L'objectif « {target.id} » promet des « {target.counts} » ({target.unit}) ; "
                f"l'indicateur « {ind.id} » compte des « {ind.counts} » ({ind.unit}). Il n'est "
                "pas mesuré : nommez un indicateur qui compte la même chose, ou retirez la clé "
                "indicator et dites dans measurable_with quelles données le permettraient.")
    return None


def measuring_indicator(target: Target) -> Indicator | None:
    """The indicator that measures ``target``, or None when none may."""
    return None if target.indicator is None or target_problem(target) else BY_ID[target.indicator]


def load_results_config(path: Path | None = None) -> tuple[int, list[Target]]:
    """The suppression threshold and the targets; each target that cannot be measured as
    declared is logged with the reason (the build goes on)."""
    from pipeline import settings

    path = path or settings.get("INCLUSION_TERRITORY")
    raw = tomllib.loads(Path(path).read_text(encoding="utf-8")).get("results", {})
    targets = [Target(id=t["id"], programme=t["programme"], indicator=t.get("indicator"),
                      value=float(t["value"]), start=str(t["start"]), end=str(t["end"]),
                      source=t.get("source", ""), unit=t.get("unit", ""),
                      counts=t.get("counts", ""), measurable_with=t.get("measurable_with", ""))
               for t in raw.get("targets", [])]
    for target in targets:
        problem = target_problem(target)
        if problem:
            log.warning("%s", problem)
    return int(raw.get("suppression_threshold", DEFAULT_THRESHOLD)), targets
