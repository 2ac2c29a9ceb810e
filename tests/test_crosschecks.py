"""pipeline/crosschecks.py: rules that compare a new file with what the warehouse already holds
(passes redeemed twice, unknown venues, phones sorted against phones collected, venue hours).
Earlier files go in through ``process_files``; the new one is read as ingest reads it."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from pipeline.contracts.datasets import CONTRACTS
from pipeline.check.crosschecks import run_cross_checks
from pipeline.ingest.flow import process_files
from pipeline.read.reading import read_partner_file
from pipeline.contracts.templates import template_csv

TERRITORY = """[territory]
name = "Essai"

[[communes]]
insee = "91477"
name = "Palaiseau"

[[communes]]
insee = "91377"
name = "Massy"

[[partners]]
id = "pass-a"
name = "Opérateur A"
communes = ["*"]
datasets = ["pass"]

[[partners]]
id = "pass-b"
name = "Opérateur B"
communes = ["*"]
datasets = ["pass"]

[[partners]]
id = "lieux"
name = "Annuaire"
communes = ["*"]
datasets = ["lieux"]

[[partners]]
id = "collecte"
name = "Collecte"
communes = ["*"]
datasets = ["collecte"]

[[partners]]
id = "tri"
name = "Reconditionneur"
communes = ["*"]
datasets = ["tri"]
"""
PASS_HEADER = ("numero_pass;numero_carnet;valeur_euros;date_distribution;prescripteur;commune;"
               "date_utilisation;lieu_utilisation\n")
PICKUP_HEADER = "identifiant_collecte;date;commune;point_collecte;telephones_collectes\n"
SORTING_HEADER = "identifiant_collecte;telephones_reconditionnes;telephones_recycles\n"


@pytest.fixture
def territory(data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "territory.toml"
    path.write_text(TERRITORY, encoding="utf-8")
    monkeypatch.setenv("INCLUSION_TERRITORY", str(path))
    return data_dir


def load(data_dir: Path, partner: str, name: str, text: str) -> None:
    path = data_dir / "inbox" / partner / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    assert process_files([(partner, str(path))])[0].status != "rejete"


def check(data_dir: Path, dataset: str, partner: str, text: str) -> list[tuple]:
    """The cross-check problems of a new file, as (line, column, value, rule, severity)."""
    path = data_dir / "nouveau.csv"
    path.write_text(text, encoding="utf-8")
    contract = CONTRACTS[dataset]
    read = read_partner_file(path, contract)
    assert [p for p in read.problems if p.severity == "erreur"] == []
    return [(p.line, p.column, p.value, p.rule, p.severity)
            for p in run_cross_checks(contract, read.frame, partner)]


def venue_row(venue_id: str, name: str, hours: str) -> str:
    header, example = template_csv(CONTRACTS["lieux"]).decode("utf-8-sig").splitlines()[:2]
    columns = header.split(";")
    (row,) = csv.DictReader(io.StringIO(header + "\n" + example + "\n"), delimiter=";")
    row.update(id=venue_id, nom=name, horaires=hours)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, delimiter=";", lineterminator="\n")
    writer.writerow(row)
    return out.getvalue()


def lieux_file(*venues: tuple[str, str, str]) -> str:
    header = template_csv(CONTRACTS["lieux"]).decode("utf-8-sig").splitlines()[0]
    return header + "\n" + "".join(venue_row(*v) for v in venues)


def test_a_pass_redeemed_again_by_another_partner_names_the_earlier_file(territory):
    load(territory, "lieux", "lieux.csv", lieux_file(("lieu-1", "Médiathèque", "Mo 09:00-12:00")))
    load(territory, "pass-a", "pass_janvier.csv", PASS_HEADER +
         "PN-1;C-1;10;15/01/2026;CCAS;91377;02/02/2026;lieu-1\n"
         "PN-2;C-1;10;15/01/2026;CCAS;91377;;\n")
    found = check(territory, "pass", "pass-b", PASS_HEADER +
                  "PN-1;C-1;10;15/01/2026;CCAS;91377;03/03/2026;lieu-1\n"  # redeemed before
                  "PN-2;C-1;10;15/01/2026;CCAS;91377;04/03/2026;lieu-1\n"  # first redemption
                  "PN-3;C-2;10;15/01/2026;CCAS;91377;;\n")
    (problem,) = found
    line, column, value, rule, severity = problem
    assert (line, column, value, severity) == (2, "numero_pass", "PN-1", "erreur")
    assert rule.startswith("Ce pass a déjà été utilisé le 02/02/2026 à « lieu-1 », d'après le "
                           "fichier « pass_janvier.csv » reçu le ")


def test_the_same_partner_may_repeat_a_redemption_but_not_change_or_erase_it(territory):
    load(territory, "lieux", "lieux.csv", lieux_file(("lieu-1", "Médiathèque", "Mo 09:00-12:00"),
                                                     ("lieu-2", "Mairie", "Tu 09:00-12:00")))
    load(territory, "pass-a", "pass_janvier.csv", PASS_HEADER +
         "PN-1;C-1;10;15/01/2026;CCAS;91377;02/02/2026;lieu-1\n"
         "PN-2;C-1;10;15/01/2026;CCAS;91377;02/02/2026;lieu-1\n"
         "PN-3;C-1;10;15/01/2026;CCAS;91377;02/02/2026;lieu-1\n")
    found = check(territory, "pass", "pass-a", PASS_HEADER +
                  "PN-1;C-1;10;15/01/2026;CCAS;91377;02/02/2026;lieu-1\n"  # same: fine
                  "PN-2;C-1;10;15/01/2026;CCAS;91377;;\n"  # erased
                  "PN-3;C-1;10;15/01/2026;CCAS;91377;02/02/2026;lieu-2\n")  # moved
    assert [(line, column, value) for line, column, value, *_ in found] == [
        (3, "numero_pass", "PN-2"), (4, "numero_pass", "PN-3")]


def test_a_redemption_at_a_venue_missing_from_the_directory_is_a_warning(territory):
    load(territory, "lieux", "lieux.csv", lieux_file(("lieu-1", "Médiathèque George Sand",
                                                      "Mo 09:00-12:00")))
    found = check(territory, "pass", "pass-a", PASS_HEADER +
                  "PN-1;C-1;10;15/01/2026;CCAS;91377;02/02/2026;lieu-1\n"  # by id
                  "PN-2;C-1;10;15/01/2026;CCAS;91377;02/02/2026;Médiathèque George Sand\n"  # name
                  "PN-3;C-1;10;15/01/2026;CCAS;91377;02/02/2026;lieu-inconnu\n"
                  "PN-4;C-1;10;15/01/2026;CCAS;91377;;\n")  # not redeemed: nothing to check
    assert [(p[0], p[1], p[2], p[4]) for p in found] == [
        (4, "lieu_utilisation", "lieu-inconnu", "avertissement")]
    assert found[0][3] == "Ce lieu d'utilisation n'est pas dans l'annuaire des lieux."


def test_sorting_more_phones_than_collected_is_an_error_and_an_unknown_pickup_a_warning(territory):
    load(territory, "collecte", "collecte.csv", PICKUP_HEADER +
         "COL-1;28/02/2026;91477;Mairie;37\n"
         "COL-2;28/02/2026;91477;Gare;10\n")
    found = check(territory, "tri", "tri", SORTING_HEADER +
                  "COL-1;21;16\n"  # exactly what was collected
                  "COL-2;6;5\n"  # 11 > 10
                  "COL-9;3;1\n")  # pickup not declared yet
    assert sorted((p[0], p[1], p[2], p[4]) for p in found) == [
        (3, "telephones_recycles", "6 + 5 > 10", "erreur"),
        (4, "identifiant_collecte", "COL-9", "avertissement")]


def test_a_pickup_file_is_checked_against_sortings_that_arrived_first(territory):
    load(territory, "tri", "tri.csv", SORTING_HEADER + "COL-1;21;16\nCOL-2;2;2\n")
    found = check(territory, "collecte", "collecte", PICKUP_HEADER +
                  "COL-1;28/02/2026;91477;Mairie;30\n"  # 37 sorted > 30 collected
                  "COL-2;28/02/2026;91477;Gare;4\n"  # exactly what was sorted
                  "COL-3;28/02/2026;91477;Poste;1\n")  # nothing sorted yet
    (problem,) = found
    assert problem[:3] == (2, "telephones_collectes", "30") and problem[4] == "erreur"
    assert problem[3] == ("Le reconditionneur a déjà déclaré 37 téléphones triés (reconditionnés + "
                          "recyclés) pour cette relève dans le fichier « tri.csv » : plus que les "
                          "30 téléphones collectés indiqués ici.")


def test_valid_osm_hours_pass_and_others_are_shown_as_written_with_a_warning(territory):
    found = check(territory, "lieux", "lieux", lieux_file(
        ("lieu-1", "Médiathèque", "Mo-Fr 09:00-12:00,14:00-18:00; Sa 09:00-12:00"),
        ("lieu-2", "Mairie", "du lundi au vendredi 9h-12h"),
        ("lieu-3", "Maison France services", "")))
    assert [(p[0], p[1], p[2], p[4]) for p in found] == [
        (3, "horaires", "du lundi au vendredi 9h-12h", "avertissement")]


BINS = """
[[collection_points]]
id = "palaiseau-mairie"
commune = "91477"
name = "Hall de la mairie de Palaiseau"
aliases = ["Mairie de Palaiseau"]
address = "91 rue de Paris, 91120 Palaiseau"
"""


def test_a_pickup_at_a_bin_the_territory_does_not_declare_is_a_warning(territory,
                                                                       monkeypatch):
    path = territory.parent / "with-bins.toml"
    path.write_text(TERRITORY + BINS, encoding="utf-8")
    monkeypatch.setenv("INCLUSION_TERRITORY", str(path))
    found = check(territory, "collecte", "collecte", PICKUP_HEADER +
                  "C-1;02/02/2026;91477;HALL DE LA MAIRIE DE PALAISEAU;12\n"  # declared name
                  "C-2;02/02/2026;91477;Mairie de Palaiseau;3\n"  # an alias
                  "C-3;02/02/2026;91477;Médiathèque George Sand;7\n"  # not declared
                  "C-4;02/02/2026;91377;Hall de la mairie de Massy;5\n")  # no bins declared
    (problem,) = found
    line, column, value, rule, severity = problem
    assert (line, column, value, severity) == (4, "point_collecte", "Médiathèque George Sand",
                                               "avertissement")
    assert rule == ("« Médiathèque George Sand » n'est pas un collecteur déclaré pour cette "
                    "commune (collecteurs déclarés : « Hall de la mairie de Palaiseau »).")


def test_without_declared_bins_no_pickup_point_is_questioned(territory):
    assert check(territory, "collecte", "collecte", PICKUP_HEADER +
                 "C-1;02/02/2026;91477;N'importe quel point;12\n") == []
