"""Real public venue directories (tests/corpus/README.md gives their sources), each read through
a partner mapping written only with the options documented in territory.toml
(tests/corpus/territory_real_directories.toml), through the normal path: dropped, processed,
loaded, and for one of them published."""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path

import pytest
from test_ingest_corpus import drop

from pipeline.load import ledger, warehouse
from pipeline.contracts.hours import is_valid

CORPUS = Path(__file__).parent / "corpus"
# partner, file, venues in the file (counted by the test from the file itself too)
DIRECTORIES = [("ville-angers", "angers.json", 63),
               ("ville-aix", "aix-en-provence.json", 38),
               ("etapes-numerique", "etapes-numerique.json", 95)]


@pytest.fixture
def real_env(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("INCLUSION_TERRITORY", str(CORPUS / "territory_real_directories.toml"))
    return data_dir


def _ingest(data_dir: Path, partner: str, name: str, mtime: float | None = None):
    from pipeline.ingest.flow import process_files

    path = drop(data_dir, partner, name, (CORPUS / name).read_bytes())
    if mtime is not None:
        os.utime(path, (mtime, mtime))
    outcome = process_files([(partner, str(path))])[0]
    return outcome, path.with_name(f"{name}.rapport.txt").read_text(encoding="utf-8")


@pytest.mark.parametrize("partner, name, venues", DIRECTORIES, ids=[d[1] for d in DIRECTORIES])
def test_every_venue_of_a_real_directory_is_accepted(real_env, partner, name, venues):
    assert len(json.loads((CORPUS / name).read_text(encoding="utf-8"))) == venues
    outcome, report = _ingest(real_env, partner, name)
    assert outcome.status != ledger.STATUS_REJECTED, report
    assert outcome.rows_loaded == venues, report
    current = warehouse.current_rows("lieux")
    assert len(current) == venues
    assert current["code_insee"].notna().all()  # every venue placed in a commune
    assert "table de correspondance" not in report  # the mapping covers every label
    assert "Colonnes non reconnues" not in report


def test_angers_gis_layout(real_env):
    """No INSEE code, no SIRET, one column per service, audiences in one column."""
    _ingest(real_env, "ville-angers", "angers.json")
    venues = warehouse.current_rows("lieux").set_index("id")
    assert set(venues["code_insee"]) == {"49007"}  # placed from 49000 / 49100 + « Angers »
    assert set(venues["pivot"]) == {"00000000000000"}
    library = venues.loc["54"]  # Bibliothèque municipale - Belle-Beille
    assert library["typologie"] == "BIB"
    assert library["services"] == "Accès internet et matériel informatique"
    assert library["complement_adresse"] == "Belle-Beille"
    first = venues.loc["43"]  # 38 bis, avenue Pasteur
    assert first["services"] == ("Accès internet et matériel informatique|"
                                 "Aide aux démarches administratives")
    assert first["telephone"] == "+33241432813"
    records = json.loads((CORPUS / "angers.json").read_text(encoding="utf-8"))
    numbers = [str(r["TYPO_UID"]) for r in records if isinstance(r["SITE_INTER"], int)]
    assert len(numbers) == 2 and venues.loc[numbers, "site_web"].isna().all()  # dropped
    assert venues["site_web"].dropna().str.match(r"^https?://").all()
    several = [v for v in venues["courriels"].dropna() if "|" in v]
    assert several and all("@" in part for v in several for part in v.split("|"))
    audiences = venues["publics_specifiquement_adresses"].dropna()
    assert "Étudiants|Seniors" in set(audiences)
    # The week in French words, read only when every word is understood.
    assert library["horaires"] == ("Tu 15:00-18:30; We 09:30-12:00,14:00-18:30; Fr 15:00-18:00; "
                                   "Sa 09:30-12:30,14:00-17:30")
    readable = [h for h in venues["horaires"].dropna() if is_valid(h)]
    assert len(readable) == 37
    kept = venues[venues["horaires"].str.contains("vacances scolaires", na=False)]
    assert len(kept) == 5  # an exception in words: kept as written, shown as given


def test_aix_near_standard_layout(real_env):
    """« ; » lists, its own service labels, labels_nationaux, a few SIRET missing."""
    _ingest(real_env, "ville-aix", "aix-en-provence.json")
    venues = warehouse.current_rows("lieux").set_index("id")
    first = venues.loc["1"]
    assert first["pivot"] == "W131004321"
    assert first["dispositif_programmes_nationaux"] == "Conseillers numériques|Aidants Connect"
    assert "Parentalité et éducation avec le numérique" in first["services"].split("|")
    assert (venues["pivot"] == "00000000000000").sum() == 2
    assert set(venues["typologie"].dropna()) >= {"FT", "ASSO", "MUNI"}
    assert "PE" not in set(venues["typologie"].dropna())
    assert set(venues["code_postal"]) == {"13080", "13090", "13100", "13290", "13540"}


def test_etapes_numeriques_minimal_layout(real_env):
    """Codes as numbers without their leading zeros, no update date, same services everywhere."""
    dropped = datetime.fromisoformat("2026-03-09T10:00:00+01:00").timestamp()
    _ingest(real_env, "etapes-numerique", "etapes-numerique.json", dropped)
    venues = warehouse.current_rows("lieux").set_index("id")
    bourg = venues.loc["1"]
    assert (bourg["code_postal"], bourg["code_insee"]) == ("01000", "01053")
    assert bourg["pivot"] == "35600000063516"
    assert set(venues["date_maj"]) == {"2026-03-09"}
    assert set(venues["formations_labels"]) == {"Étapes numériques(La Poste)"}
    assert all(len(s.split("|")) == 7 for s in venues["services"])
    assert venues["code_insee"].nunique() == 95


def test_the_angers_directory_is_published_one_page_per_venue(real_env):
    from conftest import REFERENCE_RUN

    from publish.site import publish

    outcome, report = _ingest(real_env, "ville-angers", "angers.json")
    assert outcome.rows_loaded == 63, report
    publish(REFERENCE_RUN)
    site = real_env / "site" / "current"
    pages = [p for p in (site / "lieux").glob("*/index.html") if p.parent.name != "commune"]
    assert len(pages) == 63
    listing = (site / "lieux" / "index.html").read_text(encoding="utf-8")
    assert "Bibliothèque municipale - Belle-Beille" in listing
    library = [p.read_text(encoding="utf-8") for p in pages
               if "Bibliothèque municipale - Belle-Beille" in p.read_text(encoding="utf-8")]
    assert len(library) == 1 and "Le mardi de 15 h à 18 h 30" in library[0]
