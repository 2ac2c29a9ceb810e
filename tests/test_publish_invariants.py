"""Property: a published build never changes after it is live.

Whatever sequence of venue directories is published (ids that collide once slugged, the same id
from two partners, renamed and removed venues, builds on the same day that reuse pages from the
live build by hard links, or on the next day), every byte of the live build and of every kept
build stays what it was when that build went live.
"""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta
from pathlib import Path

import pytest
import pandas as pd
from conftest import REFERENCE_RUN
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import update

from conftest import REFERENCE_RUN, examples
from pipeline.contracts.venues import VENUES
from pipeline.load import warehouse
from publish.site import publish

# Ids chosen to collide once slugged ("lieu-1"), plus distinct ones; two real venue partners.
IDS = ("Lieu-1", "lieu_1", "LIEU 1", "lieu-2", "3")
PARTNERS = {"agglo-lieux": ("Palaiseau", "91477", "91120"),
            "ville-orsay": ("Orsay", "91471", "91400")}
NAMES = ("Médiathèque Aragon", "Relais numérique", "Maison France Services")

Directory = dict[tuple[str, str], str]  # (partner, id) -> venue name
directories = st.dictionaries(st.tuples(st.sampled_from(sorted(PARTNERS)), st.sampled_from(IDS)),
                              st.sampled_from(NAMES), min_size=1, max_size=4)
# Hours since the previous build: mostly the same day (pages reused), sometimes the next day.
builds = st.lists(st.tuples(directories, st.sampled_from((1, 1, 2, 24))), min_size=2, max_size=4)


def _row(partner: str, venue_id: str, name: str) -> dict:
    commune, insee, postcode = PARTNERS[partner]
    return {"id": venue_id, "pivot": "21910477700019", "nom": name, "commune": commune,
            "code_postal": postcode, "code_insee": insee, "adresse": "1 rue de Paris",
            "date_maj": "2026-01-15", "services": "Aide aux démarches administratives",
            "modalites_acces": "Se présenter", "itinerance": "Fixe"}


def _publish_directory(directory: Directory, number: int, received_at: str) -> None:
    """The warehouse holds exactly ``directory`` as current venues (earlier ones superseded)."""
    table = warehouse.DATASET_TABLES["lieux"]
    with warehouse.engine().begin() as connection:
        connection.execute(update(table).where(table.c.current == 1).values(current=0))
        for partner in PARTNERS:
            rows = [_row(p, venue_id, name) for (p, venue_id), name in sorted(directory.items())
                    if p == partner]
            if not rows:
                continue
            frame = pd.DataFrame(rows, columns=VENUES.column_names)
            frame["_ligne"] = range(2, len(rows) + 2)
            sha = hashlib.sha256(f"{number}/{partner}".encode()).hexdigest()
            warehouse.supersede_and_insert(connection, VENUES, partner, sha, received_at, frame)


def _snapshot(build: Path) -> dict[str, str]:
    return {p.relative_to(build).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(build.rglob("*")) if p.is_file()}


def _venue_names(build: Path) -> list[str]:
    return sorted(re.search(r"<h1>(.*?)</h1>", p.read_text(encoding="utf-8")).group(1)
                  for p in build.glob("lieux/*/index.html"))


@pytest.mark.heavy  # a build per Hypothesis example
@settings(max_examples=examples(5, fast=2), deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(sequence=builds)
@example(sequence=[  # a live venue's page is linked, then a colliding id is rendered after it
    ({("agglo-lieux", "Lieu-1"): "Médiathèque Aragon"}, 1),
    ({("agglo-lieux", "Lieu-1"): "Médiathèque Aragon",
      ("agglo-lieux", "lieu_1"): "Relais numérique"}, 1),
    ({("agglo-lieux", "Lieu-1"): "Médiathèque Aragon",
      ("ville-orsay", "Lieu-1"): "Maison France Services"}, 1)])
def test_no_byte_of_a_published_build_changes_afterwards(sequence, tmp_path_factory, monkeypatch):
    data = tmp_path_factory.mktemp("donnees")
    snapshots: dict[Path, dict[str, str]] = {}
    when = REFERENCE_RUN
    with monkeypatch.context() as patched:
        patched.setenv("INCLUSION_DATA", str(data))
        patched.setenv("INCLUSION_ALLOW_PAGE_DROP", "1")  # removing venues is the point here
        for number, (directory, hours) in enumerate(sequence):
            when += timedelta(hours=hours)
            _publish_directory(directory, number, when.isoformat())
            build = Path(publish(when).path)
            assert (data / "site" / "current").resolve() == build
            assert _venue_names(build) == sorted(directory.values())  # one page per venue
            snapshots[build] = _snapshot(build)
            for kept, snapshot in snapshots.items():
                if kept.exists():  # pruned builds are gone as a whole, never changed
                    assert _snapshot(kept) == snapshot, f"{kept.name} a changé"
