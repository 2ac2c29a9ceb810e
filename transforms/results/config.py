"""The ``[results]`` section of territory.toml: the suppression threshold and the targets."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from transforms.catalogue import indicator
from transforms.suppression import DEFAULT_THRESHOLD


@dataclass(frozen=True)
class Target:
    id: str
    programme: str
    indicator: str
    value: float
    start: str  # ISO dates, inclusive
    end: str
    source: str = ""


def load_results_config(path: Path | None = None) -> tuple[int, list[Target]]:
    """The suppression threshold and the targets (unknown indicator ids fail loudly)."""
    from pipeline import settings

    path = path or settings.get("INCLUSION_TERRITORY")
    raw = tomllib.loads(Path(path).read_text(encoding="utf-8")).get("results", {})
    targets = [Target(id=t["id"], programme=t["programme"], indicator=t["indicator"],
                      value=float(t["value"]), start=str(t["start"]), end=str(t["end"]),
                      source=t.get("source", "")) for t in raw.get("targets", [])]
    for target in targets:
        indicator(target.indicator)  # unknown ids fail the build loudly
    return int(raw.get("suppression_threshold", DEFAULT_THRESHOLD)), targets
