"""Yearly results on small hand-made datasets, with every answer computed by hand.

Communes: Palaiseau, Massy, Orsay and Gif-sur-Yvette (which never sends anything).
Workshops 2025: Palaiseau A (6 present of 8 registered, 10 seats, 60 min), B (9 of 12, 12
seats, 90 min), C cancelled; Massy D (3 of 4, 8 seats, 120 min); Orsay E (7 of 8, 10 seats,
60 min). Workshops 2026: Palaiseau F first sent with 2 present, then corrected to 9 (of 9, 10
seats); Massy G (10 of 10, 10 seats) and H cancelled.
Passes 2026: Palaiseau booklet C1 of 10 passes handed out on 10/01, 4 redeemed after 10, 30,
0 and 50 days at venues L1, L1, L2, L1; Massy 6 booklets of one pass each, none redeemed.
Phones 2026: Orsay pickups K1 (30 phones, sorted 10 refurbished + 15 recycled) and K2
(20 phones, not sorted yet), at two points.
Venues: two in Palaiseau, one of them labelled.
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest
from conftest import REFERENCE_RUN

from pages.results_view import add_texts
from pipeline.contracts.datasets import WORKSHOPS
from pipeline.load import warehouse
from transforms.results import Target, compute_results
from transforms.suppression import suppress

COMMUNES = {"91477": "Palaiseau", "91377": "Massy", "91471": "Orsay", "91272": "Gif-sur-Yvette"}
W_COLUMNS = ["identifiant_seance", "commune", "lieu", "date", "heure_debut", "duree_minutes",
             "thematique", "public", "places", "inscrits", "presents", "statut", "inscription"]


def workshop(key, commune, day, minutes, seats, registered, present, status,
             topic="smartphone", public="seniors"):
    return (key, commune, "Médiathèque", day, "10:00", minutes, topic, public, seats,
            registered, present, status, "Mairie")


FIRST_FILE = [
    workshop("A", "91477", "2025-03-10", 60, 10, 8, 6, "realisee"),
    workshop("B", "91477", "2025-06-01", 90, 12, 12, 9, "realisee", "services-en-ligne", "jeunes"),
    workshop("C", "91477", "2025-07-01", 60, 10, 5, None, "annulee"),
    workshop("D", "91377", "2025-05-05", 120, 8, 4, 3, "realisee"),
    workshop("E", "91471", "2025-09-09", 60, 10, 8, 7, "realisee", public="jeunes"),
    workshop("F", "91477", "2026-01-10", 60, 10, 9, 2, "realisee"),
    workshop("G", "91377", "2026-02-10", 60, 10, 10, 10, "realisee"),
    workshop("H", "91377", "2026-03-03", 60, 10, 4, None, "annulee"),
]
CORRECTION = [workshop("F", "91477", "2026-01-10", 60, 10, 9, 9, "realisee")]


def passes() -> pd.DataFrame:
    rows = []
    used = {1: ("2026-01-20", "L1"), 2: ("2026-02-09", "L1"), 3: ("2026-01-10", "L2"),
            4: ("2026-03-01", "L1")}
    for n in range(1, 11):
        day, venue = used.get(n, (None, None))
        rows.append((f"P{n}", "C1", 10.0, "2026-01-10", "CCAS", "91477", day, venue))
    for n in range(2, 8):
        rows.append((f"M{n}", f"C{n}", 10.0, "2026-02-01", "CCAS", "91377", None, None))
    return pd.DataFrame(rows, columns=["numero_pass", "numero_carnet", "valeur_euros",
                                       "date_distribution", "prescripteur", "commune",
                                       "date_utilisation", "lieu_utilisation"])


PICKUPS = pd.DataFrame([("K1", "2026-04-01", "91471", "Mairie", 30),
                        ("K2", "2026-05-01", "91471", "Médiathèque", 20)],
                       columns=["identifiant_collecte", "date", "commune", "point_collecte",
                                "telephones_collectes"])
SORTING = pd.DataFrame([("K1", 10, 15)], columns=["identifiant_collecte",
                                                   "telephones_reconditionnes",
                                                   "telephones_recycles"])
VENUES = pd.DataFrame([("L1", "Médiathèque", "91477", "Aide aux démarches administratives",
                        "France Services", None),
                       ("L2", "Association", "91477", "Aide aux démarches administratives|"
                        "Maîtrise des outils numériques du quotidien", None, None)],
                      columns=["id", "nom", "code_insee", "services",
                               "dispositif_programmes_nationaux", "formations_labels"])
TARGETS = [Target("t-ateliers", "Convention", "seances_realisees", 12, "2026-02-04", "2027-12-31",
                  unit="nombre", counts="séances d'atelier réalisées"),
           Target("t-pass", "MGP", "pass_distribues", 155000, "2021-01-01", "2021-12-31",
                  unit="nombre", counts="pass numériques remis")]


def _load_workshops() -> pd.DataFrame:
    """Two files from the same partner through the warehouse: the second corrects F."""
    with warehouse.engine().begin() as connection:
        for sha, when, rows in (("a" * 64, "2026-03-01T10:00", FIRST_FILE),
                                ("b" * 64, "2026-03-02T10:00", CORRECTION)):
            frame = pd.DataFrame(rows, columns=W_COLUMNS).reindex(
                columns=WORKSHOPS.column_names)
            frame["_ligne"] = range(2, len(frame) + 2)
            warehouse.supersede_and_insert(connection, WORKSHOPS, "ville", sha, when, frame)
    return warehouse.current_rows("ateliers")


@pytest.fixture
def results(data_dir):
    frames = {"ateliers": _load_workshops(), "pass": passes(), "collecte": PICKUPS,
              "tri": SORTING, "lieux": VENUES}
    return add_texts(compute_results(frames, COMMUNES, REFERENCE_RUN, threshold=5,
                                     targets=TARGETS, source_list={},
                                     venues_covered=set(COMMUNES)))


def section(results, year, dataset):
    table = next(t for t in results["by_year"][year]["sections"] if t["dataset"] == dataset)
    return {r["commune"]: r for r in table["rows"]}, table["total"]


def test_workshops_with_cancelled_sessions_and_small_counts(results):
    assert results["years"] == [2025, 2026]
    rows, total = section(results, 2025, "ateliers")
    palaiseau = rows["91477"]["published"]
    assert palaiseau == {"seances_realisees": 2, "seances_annulees": 1, "participants": 15,
                         "thematiques_distinctes": 2, "heures_apprenants": 20,  # 6×1 + 9×1,5
                         "taux_remplissage": 0.909, "taux_presence": 0.75}  # 20/22, 15/20
    assert total["published"] == {"seances_realisees": 4, "seances_annulees": 1,
                                  "participants": 25, "thematiques_distinctes": 2,
                                  "heures_apprenants": 33,  # 6 + 13,5 + 6 + 7 = 32,5
                                  "taux_remplissage": 0.8, "taux_presence": 0.781}  # 32/40, 25/32
    # Massy: 3 people < 5 -> primary; Orsay (7, the smallest other) -> secondary, or
    # 25 − 15 would give Massy back.
    massy, orsay = rows["91377"], rows["91471"]
    assert massy["secret"] and not massy.get("secondary")
    assert orsay["secret"] and orsay["secondary"]
    assert massy["display"]["participants"] == "< 5"
    assert orsay["display"]["participants"] == "secret"
    for row in (massy, orsay):
        assert row["published"]["participants"] is None
        assert row["published"]["heures_apprenants"] is None  # would reveal the count
        assert row["published"]["taux_presence"] is None
    assert massy["published"]["seances_realisees"] == 1  # sessions are not people
    assert not rows["91477"]["secret"]


def test_commune_without_data_is_not_reported(results):
    rows, _ = section(results, 2025, "ateliers")
    gif = rows["91272"]
    assert not gif["renseigne"]
    assert set(gif["display"].values()) == {"non renseigné"}
    assert all(v is None for v in gif["published"].values())
    pass_rows, _ = section(results, 2026, "pass")
    assert pass_rows["91471"]["display"]["pass_distribues"] == "non renseigné"


def test_correction_supersedes_and_year_on_year_change(results):
    rows, total = section(results, 2026, "ateliers")
    assert rows["91477"]["published"]["participants"] == 9  # the corrected value, not 2 or 11
    assert rows["91377"]["published"]["participants"] == 10
    assert total["published"]["participants"] == 19
    assert total["published"]["seances_annulees"] == 1
    assert rows["91477"]["change"]["participants"] == {"delta": -6, "text": "\u22126"}
    # Massy was withheld in 2025: its change would reveal it.
    assert rows["91377"]["change"]["participants"] is None
    assert total["change"]["taux_presence"]["text"] == "+21,9 pt"  # 19/19 − 25/32
    assert len(warehouse.all_rows("ateliers")) == len(FIRST_FILE) + 1


def test_passes_with_unused_passes(results):
    rows, total = section(results, 2026, "pass")
    assert total["published"] == {"carnets_distribues": 7, "pass_distribues": 16,
                                  "pass_utilises": 4, "taux_utilisation": 0.25,
                                  "valeur_utilisee_euros": 40,
                                  "delai_median_jours": 20.0,  # median of 0, 10, 30, 50
                                  "lieux_utilisation": 2}
    # One booklet (one person) in Palaiseau -> primary; Massy is then the only other -> secondary.
    assert rows["91477"]["display"]["pass_utilises"] == "secret"
    assert rows["91477"]["display"]["carnets_distribues"] == "< 5"
    assert rows["91377"]["secret"] and rows["91377"]["secondary"]


def test_phones_and_venues(results):
    rows, total = section(results, 2026, "collecte")
    assert rows["91471"]["published"] == {"points_collecte_actifs": 2, "telephones_collectes": 50,
                                          "telephones_reconditionnes": 10,
                                          "telephones_recycles": 15, "taux_reemploi": 0.4}
    assert rows["91477"]["display"]["telephones_collectes"] == "non renseigné"
    venues, venue_total = section(results, 2026, "lieux")
    # L1 and L2 accept the pass: passes were used there.
    assert venues["91477"]["published"] == {"lieux_recenses": 2, "lieux_labellises": 1,
                                            "lieux_pass": 2, "communes_avec_lieu": 1}
    # The directory covers every commune: no venue in Gif is a real zero.
    assert venues["91272"]["published"] == {"lieux_recenses": 0, "lieux_labellises": 0,
                                            "lieux_pass": 0, "communes_avec_lieu": 0}
    assert venue_total["published"]["communes_avec_lieu"] == 1
    assert venue_total["change"]["lieux_recenses"] is None  # a snapshot has no yearly change
    services = next(b for b in results["by_year"][2026]["breakdowns"] if b["id"] == "lieux-services")
    assert {r["label"]: r["published"]["lieux_recenses"] for r in services["rows"]} == {
        "Aide aux démarches administratives": 2, "Maîtrise des outils numériques du quotidien": 1}


def test_breakdowns_by_topic_and_public(results):
    breakdowns = {b["id"]: b for b in results["by_year"][2025]["breakdowns"]}
    topics = {r["code"]: r["published"] for r in breakdowns["ateliers-thematique"]["rows"]}
    assert topics == {"smartphone": {"seances_realisees": 3, "participants": 16},
                      "services-en-ligne": {"seances_realisees": 1, "participants": 9}}
    publics = {r["code"]: r["published"] for r in breakdowns["ateliers-public"]["rows"]}
    assert publics == {"seniors": {"seances_realisees": 2, "participants": 9},
                       "jeunes": {"seances_realisees": 2, "participants": 16}}


def test_targets_cover_their_period(results):
    targets = {t["id"]: t for t in results["targets"]}
    # Of the sessions held in 2026, only G (10/02) is inside 04/02/2026–31/12/2027.
    assert targets["t-ateliers"]["realise"] == 1
    assert targets["t-ateliers"]["progression"] == 0.083
    assert targets["t-ateliers"]["progression_texte"] == "8,3\u202f%"
    assert targets["t-pass"]["realise"] is None
    assert targets["t-pass"]["realise_texte"] == "non renseigné"


def test_no_withheld_cell_can_be_recovered_from_a_total(results):
    for year in results["years"]:
        tables = results["by_year"][year]["sections"] + results["by_year"][year]["breakdowns"]
        for table in tables:
            total = table.get("total")
            if total and total["renseigne"] and not total.get("secret"):
                assert sum(1 for r in table["rows"] if r.get("secret")) != 1, table["id"]


def test_secondary_suppression_is_repeated_until_two_cells_are_withheld():
    rows = [{"renseigne": True, "values": {"n": v}, "sort": name}
            for name, v in (("a", 3), ("b", 0), ("c", 40), ("d", 12))]
    suppress(rows, {"values": {"n": 55}}, "n", 5)
    assert [r["secret"] for r in rows] == [True, True, False, False]  # 0 is the smallest other


def test_future_years_are_not_results():
    frames = {"ateliers": pd.DataFrame([workshop("Z", "91477", "2027-01-05", 60, 10, 3, None,
                                                 "prevue")], columns=W_COLUMNS)}
    assert compute_results(frames, COMMUNES, datetime(2026, 11, 25))["years"] == []


def _drop_and_load(data_dir: Path, partner: str, name: str, text: str) -> None:
    from pipeline.ingest.flow import process_files

    path = data_dir / "inbox" / partner / name
    path.write_text(text, encoding="utf-8")
    assert process_files([(partner, str(path))])[0].status != "rejete"


def _recomputed(territory) -> dict:
    """The same results without anything kept from earlier builds."""
    import shutil

    from transforms.results import build_results

    shutil.rmtree(Path(os.environ["INCLUSION_DATA"]) / "cache", ignore_errors=True)
    return build_results(territory, REFERENCE_RUN)


def test_an_unchanged_dataset_is_not_read_again_and_a_changed_one_is_recomputed(
        loaded_samples, monkeypatch):
    from pipeline.load import warehouse
    from pipeline.config import load_territory
    from pipeline.load import warehouse
    from transforms.results import build_results

    data_dir = loaded_samples
    territory = load_territory()
    build_results(territory, REFERENCE_RUN)
    read: list[str] = []
    real = warehouse.current_rows
    monkeypatch.setattr(warehouse, "current_rows",
                        lambda name, columns=None: read.append(name) or real(name, columns))

    # A new workshop file: the passes and the pickups are not even read.
    _drop_and_load(data_dir, "ville-palaiseau", "ateliers_nouveaux.csv", (
        "identifiant_seance;commune;lieu;date;heure_debut;duree_minutes;thematique;public;"
        "places;inscrits;presents;statut;inscription\n"
        "PAL-NEW;91477;CCAS de Palaiseau;03/03/2026;14h00;60;Prise en main du smartphone;"
        "Seniors;12;9;8;Réalisée;CCAS de Palaiseau\n"))
    read.clear()
    with_memo = build_results(territory, REFERENCE_RUN)
    assert "ateliers" in read and not {"pass", "collecte", "tri"} & set(read)
    assert with_memo == _recomputed(territory)

    # A new pass file: the pass tables change, as a full computation says.
    before = with_memo["by_year"][2026]["sections"][1]["total"]["published"]["pass_distribues"]
    _drop_and_load(data_dir, "operateur-pass", "pass_numerique_complement.csv", (
        "numero_pass;numero_carnet;valeur_euros;date_distribution;prescripteur;commune;"
        "date_utilisation;lieu_utilisation\n"
        "PN-2027-990001;C-2027-9900;10;02/03/2026;CCAS;91477;;\n"
        "PN-2027-990002;C-2027-9900;10;02/03/2026;CCAS;91477;;\n"))
    after = build_results(territory, REFERENCE_RUN)
    assert "pass" in read
    assert after["by_year"][2026]["sections"][1]["total"]["published"]["pass_distribues"] \
        == before + 2
    assert after == _recomputed(territory)


def test_the_site_data_reads_back_what_the_database_counted_on_an_unchanged_dataset(
        loaded_samples, monkeypatch):
    """The passes' prescribers and redemption venues are counted by the database once per
    version of the pass files, and the venue views made once per version of the venue and
    pass files: a new workshop file does not query the passes nor remake the views, a new pass
    file does both, and each gives what plain queries give."""
    import pages.site_data
    from pages.site_data import build_site_data
    from pipeline.config import data_paths, load_territory
    from pipeline.load import ledger, warehouse
    from transforms.results.prepare import remembering_tables

    data_dir, territory = loaded_samples, load_territory()

    def remembered() -> dict:
        tables = remembering_tables(data_paths().root, ledger.entries())
        site = build_site_data(territory, REFERENCE_RUN, tables)
        tables.memo.prune()
        return site

    made: list[int] = []
    views = pages.site_data.venue_views
    monkeypatch.setattr(pages.site_data, "venue_views",
                        lambda venues, *rest: made.append(len(venues)) or views(venues, *rest))
    first = remembered()
    assert made and first["venues"]
    made.clear()
    queried: list[str] = []
    counts, distinct = warehouse.current_counts, warehouse.distinct_current
    monkeypatch.setattr(warehouse, "current_counts",
                        lambda name, *rest: queried.append(name) or counts(name, *rest))
    monkeypatch.setattr(warehouse, "distinct_current",
                        lambda name, column: queried.append(name) or distinct(name, column))
    _drop_and_load(data_dir, "ville-palaiseau", "ateliers_nouveaux.csv", (
        "identifiant_seance;commune;lieu;date;heure_debut;duree_minutes;thematique;public;"
        "places;inscrits;presents;statut;inscription\n"
        "PAL-NEW;91477;CCAS de Palaiseau;03/03/2026;14h00;60;Prise en main du smartphone;"
        "Seniors;12;9;8;Réalisée;CCAS de Palaiseau\n"))
    second = remembered()
    assert "pass" not in queried and made == []
    assert second["venues"] == build_site_data(territory, REFERENCE_RUN)["venues"]
    assert second["pass_prescribers"] == first["pass_prescribers"]
    assert _comparable(second) == _comparable(build_site_data(territory, REFERENCE_RUN))
    queried.clear()
    made.clear()
    _drop_and_load(data_dir, "operateur-pass", "pass_numerique_complement.csv", (
        "numero_pass;numero_carnet;valeur_euros;date_distribution;prescripteur;commune;"
        "date_utilisation;lieu_utilisation\n" + "".join(
            f"PN-2027-99000{n};C-2027-9900;10;02/03/2026;Mission locale;91477;;\n"
            for n in range(1, 7))))
    third = remembered()
    assert "pass" in queried and made
    assert third["pass_prescribers"] != first["pass_prescribers"]
    assert _comparable(third) == _comparable(build_site_data(territory, REFERENCE_RUN))


def _comparable(site: dict) -> dict:
    """Site data without the downloads' render functions (their keys stay)."""
    return {**site, "exports": {name: download.key for name, download in site["exports"].items()}}


def test_a_kept_target_on_pickups_follows_a_new_sorting_file(data_dir, tmp_path):
    """Pickups are counted with the refurbisher's sorting joined in: a target on refurbished
    phones must be computed again when only a sorting file arrived."""
    from transforms.memo import ResultsMemo

    target = Target("t-reemploi", "Emmaüs", "telephones_reconditionnes", 100, "2026-01-01",
                    "2026-12-31", unit="nombre", counts="téléphones reconditionnés")

    def reached(sorting: pd.DataFrame, tri_version: str) -> float:
        frames = {"collecte": PICKUPS, "tri": sorting}
        results = compute_results(frames, COMMUNES, REFERENCE_RUN, threshold=5, targets=[target],
                                  memo=ResultsMemo(tmp_path / "memo"),
                                  versions={"collecte": "c1", "tri": tri_version})
        return results["targets"][0]["realise"]

    assert reached(SORTING, "t1") == 10
    more = SORTING.assign(telephones_reconditionnes=[25])
    assert reached(more, "t2") == 25
    assert reached(more, "t2") == 25  # and kept again under its new version


def test_venues_with_an_unknown_or_outside_commune_count_in_no_commune(data_dir):
    """A venue row without an INSEE code (its commune name unknown to the territory) or with a
    commune outside it got into the warehouse: it counts nowhere, and the territory total stays
    the sum of the communes (it used to stop every publication)."""
    strays = pd.DataFrame([("L3", "Tiers-lieu", None, "Aide aux démarches administratives",
                            "France Services", None),
                           ("L4", "Espace numérique", "75056",
                            "Maîtrise des outils numériques du quotidien", None, None)],
                          columns=VENUES.columns)
    frames = {"ateliers": pd.DataFrame(), "pass": passes(), "collecte": PICKUPS, "tri": SORTING,
              "lieux": pd.concat([VENUES, strays], ignore_index=True)}
    results = compute_results(frames, COMMUNES, REFERENCE_RUN, threshold=5,
                              venues_covered=set(COMMUNES))
    venues, total = section(results, 2026, "lieux")
    assert venues["91477"]["published"]["lieux_recenses"] == 2
    assert total["published"] == {"lieux_recenses": 2, "lieux_labellises": 1, "lieux_pass": 2,
                                  "communes_avec_lieu": 1}
    assert sum(r["published"]["lieux_recenses"] for r in venues.values()) == 2
    services = next(b for b in results["by_year"][2026]["breakdowns"]
                    if b["id"] == "lieux-services")
    assert {r["label"]: r["published"]["lieux_recenses"] for r in services["rows"]} == {
        "Aide aux démarches administratives": 2, "Maîtrise des outils numériques du quotidien": 1}
