"""The GX suites stored in expectations/ are exactly what the contracts generate, and they
catch what they claim to catch."""

from __future__ import annotations

import pandas as pd

from pipeline.check.suites import render_suite, suite_path
from pipeline.check.validation import validate_many
from pipeline.contracts.datasets import CONTRACTS, WORKSHOPS
from pipeline.read.reading import to_contract


def test_stored_suites_match_the_contracts():
    for contract in CONTRACTS.values():
        stored = suite_path(contract.dataset).read_text(encoding="utf-8")
        assert stored == render_suite(contract), (
            f"expectations/{contract.dataset}.json is stale: run `make expectations`")


def _cells(**changes):
    row = {"identifiant_seance": "S1", "commune": "91477", "lieu": "Médiathèque",
           "date": "31/01/2026", "heure_debut": "14h30", "duree_minutes": "60",
           "thematique": "Seniors", "public": "Seniors", "places": "10", "inscrits": "8",
           "presents": "7", "statut": "Réalisée", "inscription": "Mairie"}
    row["thematique"] = "Prise en main du smartphone"
    row.update(changes)
    return row


def problems_for(rows, communes=("91477",)):
    read = to_contract(pd.DataFrame(rows, dtype=object), WORKSHOPS)
    problems = validate_many([(read, WORKSHOPS, "partenaire", list(communes))])[0]
    return {(p.line, p.column, p.value, p.rule) for p in problems}


def test_a_clean_row_passes():
    assert problems_for([_cells()]) == set()


def test_each_rule_names_line_column_and_value():
    rows = [
        _cells(),
        _cells(identifiant_seance="S2", commune="91377"),
        _cells(identifiant_seance="S3", date="31/13/2026"),
        _cells(identifiant_seance="S4", presents="9"),
        _cells(identifiant_seance="S5", inscrits="12"),
        _cells(identifiant_seance="S6", thematique="Cuisine"),
        _cells(identifiant_seance="S7", duree_minutes="5"),
        _cells(identifiant_seance="S8", presents=""),
        _cells(identifiant_seance="S8", heure_debut="midi"),
    ]
    found = problems_for(rows)
    by_place = {(line, column, value) for line, column, value, _ in found}
    assert (3, "commune", "91377") in by_place
    assert (4, "date", "31/13/2026") in by_place
    assert (5, "presents", "9") in by_place
    assert (6, "inscrits", "12") in by_place
    assert (7, "thematique", "Cuisine") in by_place
    assert (8, "duree_minutes", "5") in by_place
    assert (9, "presents", "") in by_place  # required once the session is held
    assert (10, "heure_debut", "midi") in by_place
    assert {(9, "identifiant_seance", "S8"), (10, "identifiant_seance", "S8")} <= by_place
    assert not any(line == 2 for line, *_ in by_place)


def test_data_docs_are_built_into_the_data_folder_and_request_nothing_elsewhere(data_dir):
    import re

    from pipeline.check.datadocs import build_data_docs
    from pipeline.contracts.datasets import CONTRACTS

    index = build_data_docs()
    assert index.is_file() and index.is_relative_to(data_dir)
    pages = {p.stem: p.read_text(encoding="utf-8") for p in index.parent.rglob("*.html")}
    assert set(CONTRACTS) <= set(pages)
    assert "duree_minutes" in pages["ateliers"]
    for html in pages.values():
        assert not re.search(r'<(?:script|link|img|iframe)[^>]*(?:src|href)="https?://', html)


def test_data_docs_are_rebuilt_only_when_a_suite_changes(data_dir, monkeypatch):
    import pipeline.check.datadocs as datadocs

    index = datadocs.build_data_docs()
    page = next(index.parent.rglob("ateliers.html"))
    page.write_text("ancienne version", encoding="utf-8")
    assert datadocs.build_data_docs() == index
    assert page.read_text(encoding="utf-8") == "ancienne version"  # same suites: kept
    monkeypatch.setattr(datadocs, "_suites_fingerprint", lambda: "une règle a changé")
    datadocs.build_data_docs()
    assert "duree_minutes" in page.read_text(encoding="utf-8")
