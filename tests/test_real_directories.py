"""Real public venue directories (tests/corpus/README.md gives their sources), each read through
a partner mapping written only with the options documented in territory.toml
(tests/corpus/territory_real_directories.toml), through the normal path: dropped, processed,
loaded, and for one of them published."""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path

import pandas as pd
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


# --- Real CSV exports (tests/corpus/README.md): France Services' national list and the
# Région Sud census, cut to a few departments, bytes as published.

def _csv_records(name: str, delimiter: str) -> list[dict[str, str]]:
    import csv

    with (CORPUS / name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter=delimiter))


def test_france_services_national_list(real_env):
    """Quoted CSV with cells over several lines, one column per day, venues' own contacts in
    their presentation, one address with a space in it dropped by the mapping's value table."""
    records = _csv_records("france-services.csv", ",")
    assert len(records) == 197
    outcome, report = _ingest(real_env, "france-services", "france-services.csv")
    assert outcome.status == ledger.STATUS_ACCEPTED_WITH_WARNINGS, report
    assert outcome.rows_loaded == 197, report
    venues = warehouse.current_rows("lieux").set_index("id")
    assert len(venues) == 197 and venues["code_insee"].notna().all()
    # Read through the alias « mail » for courriels, the value table still applies.
    nogent = venues.loc["temp_45"]
    assert pd.isna(nogent["courriels"]) and nogent["telephone"] == "+33237435641"
    assert "maisondes services" not in report
    # « 09:30-12:30/\n\n 13:30-18:00 »: one day over two lines of its cell.
    assert venues.loc["temp_148", "horaires"] == (
        "Mo 13:00-18:00; Tu 09:30-13:00,14:00-19:00; We 09:30-12:30,13:30-18:00; "
        "Th 09:00-12:00; Fr 09:30-12:30,13:30-18:00; Sa 10:00-13:00")
    assert is_valid(venues.loc["temp_148", "horaires"])
    # Line breaks inside an address read as one space; a presentation keeps its paragraphs.
    assert venues["adresse"].str.contains("\n").sum() == 0
    assert "303 Rue Francois Mitterand Dzuomogne" in set(venues["adresse"])
    assert venues["presentation_detail"].str.contains("\n", na=False).any()
    # A venue's booking address and number in its own presentation are public, not personal.
    vico = venues[venues["nom"] == "France services Vico"].iloc[0]
    assert "vico@france-services.gouv.fr" in vico["presentation_detail"]
    assert "(masqué)" not in report
    assert set(venues["itinerance"]) == {"Fixe", "Itinérant"}
    assert (venues["itinerance"] == "Itinérant").sum() == sum(
        r["itinerance"] == "Oui" for r in records)
    assert set(venues["dispositif_programmes_nationaux"]) == {"France Services"}
    assert venues["latitude"].between(-22, 51).all()  # Mayotte and La Réunion included
    # A slip in a day's cell: the partner is told how to write it, and the row is kept.
    line = next(n for n, r in enumerate(records, start=2) if r["id_fs"] == "temp_67")
    assert f"Ligne {line}, colonne « h_vendredi », valeur « 07:30:12:30 »" in report
    assert "Écrivez les plages du jour comme « 09:00-12:00 / 14:00-17:00 »" in report
    unreadable = venues.loc["temp_152", "horaires"]
    assert "h_jeudi: 09:00-12:00-14:00-17:00" in unreadable and not is_valid(unreadable)


def test_region_sud_census_with_lost_letters(real_env):
    """« ; » CSV whose accented letters were lost before publication, codes without their
    leading zero, no identifier (made from name and address by [join], which also reads « nom »
    as the venue's name), the week in French words."""
    records = _csv_records("regionsud-lieux-extrait.csv", ";")
    assert len(records) == 104
    outcome, report = _ingest(real_env, "region-sud", "regionsud-lieux-extrait.csv")
    assert outcome.status == ledger.STATUS_ACCEPTED_WITH_WARNINGS, report
    assert outcome.rows_loaded == 104, report
    assert "La colonne obligatoire « nom » est absente" not in report
    venues = warehouse.current_rows("lieux").set_index("source_line")
    digne = venues.loc[2]
    assert digne["nom"] == "Centre Communal d'Action Sociale"
    assert (digne["code_postal"], digne["code_insee"]) == ("04000", "04070")
    assert digne["adresse"] == "rue pierre magnan"
    assert venues.loc[3, "adresse"] == "66 boulevard gassendi"
    assert venues["code_postal"].str.fullmatch(r"\d{5}").all()
    assert venues["id"].is_unique
    # Every cell with a lost letter is named, once per column, with what to do.
    lost = [n for n, r in enumerate(records, start=2) if "\ufffd" in r["nom"]]
    assert lost and all(f"Ligne {n}, colonne « nom », valeur « {records[n - 2]['nom']} »"
                        in report for n in lost)
    assert "Des lettres de cette case ont été perdues" in report
    assert "Exportez à nouveau le fichier depuis l'outil d'origine" in report
    # The report names the partner's own columns, renamed by the mapping.
    assert "Ligne 97, colonne « contact_telephone », valeur « 04 90 32 45 65 »" in report
    assert venues.loc[97, "telephone"] == "+33490324565"
    # A postal code that is not its INSEE commune's: placed by the code, and said.
    assert venues.loc[94, "code_insee"] == "84007"
    assert ("Ce code postal n'est pas celui de la commune 84007 (Avignon)" in report
            and "Ligne 94, colonne « adresse_code_postal », valeur « 84700 »" in report)
    # Hours in words read when every word is understood; with a lost « à », kept as written.
    hours = venues["horaires"].dropna()
    assert "Mo-Fr 09:30-12:30,14:00-18:00" in set(hours)
    assert "Lundi au vendredi de 9h \ufffd 12h30 et de 14h \ufffd 17h" in set(hours)
    assert set(venues["formations_labels"].dropna()) == {
        "Fabriques de Territoire", "SUD LABS (PACA)|Fabriques de Territoire"}
    assert (venues["dispositif_programmes_nationaux"] == "France Services").sum() == 15


def test_region_sud_record_cut_in_two_is_refused_at_its_lines(real_env):
    """An unquoted line break in the census cut one venue in two: its first half has no
    commune, the second slides ten columns (its town in « siret »). Refused, both lines named."""
    outcome, report = _ingest(real_env, "region-sud", "regionsud-ligne-coupee.csv")
    assert outcome.status == ledger.STATUS_REJECTED and outcome.rows_loaded == 0
    assert warehouse.current_rows("lieux").empty
    assert "Ligne 6, colonne « adresse_commune », case vide" in report
    assert "Ligne 7, colonne « adresse_commune », case vide" in report
    assert "Ligne 7, colonne « siret », valeur « CAMARET-SUR-AIGUES »" in report
    # The commune whose « É » was lost is not guessed.
    assert "Ligne 3, colonne « adresse_commune », valeur « S\ufffdRIGNAN-DU-COMTAT »" in report
    assert (real_env / "inbox" / "region-sud" / "regionsud-ligne-coupee.csv").exists() is False
