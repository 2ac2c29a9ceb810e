"""What was cut from Great Expectations' fixed costs (issue 18, item 3) changes no finding: GX
sees only the suite's columns, and builds each expectation's configuration once per run."""

from __future__ import annotations

import pandas as pd

from bench.floors import pandas_findings
from pipeline.check import validation
from pipeline.check.suites import load_suite
from pipeline.check.validation import (Submission, batch_frame, run_suite_on_batch,
                                       suite_columns, suite_parameters)
from pipeline.contracts.datasets import CONTRACTS, VOUCHERS, WORKSHOPS
from pipeline.read.reading import to_contract


def _sessions(**changes) -> dict:
    row = {"identifiant_seance": "S1", "commune": "91477", "lieu": "Médiathèque",
           "adresse": "1 rue de la Gare", "date": "31/01/2026", "heure_debut": "14h30",
           "duree_minutes": "60", "thematique": "Prise en main du smartphone",
           "public": "Seniors", "places": "10", "inscrits": "8", "presents": "7",
           "statut": "Réalisée", "inscription": "Mairie"}
    row.update(changes)
    return row


def test_the_suite_columns_include_those_of_row_conditions():
    assert {"presents", "statut", "_fichier", "_partenaire_commune"} <= set(
        suite_columns(WORKSHOPS.dataset))
    assert {"lieu_utilisation", "date_utilisation"} <= set(suite_columns(VOUCHERS.dataset))
    for dataset in CONTRACTS:  # every column an expectation names
        named = {e["kwargs"].get("column") for e in load_suite(dataset)["expectations"]}
        assert named - {None} <= set(suite_columns(dataset))
    assert "adresse" not in suite_columns(WORKSHOPS.dataset)


def test_findings_are_those_of_the_plain_pandas_rules_on_the_whole_batch():
    """Two files of a batch, a bad cell for each kind of rule: GX on the suite's columns flags
    exactly the cells the same rules flag in pandas on every column of the batch."""
    first = [_sessions(), _sessions(identifiant_seance="S2", commune="91377"),
             _sessions(identifiant_seance="S3", presents=""),
             _sessions(identifiant_seance="S4", inscrits="12"),
             _sessions(identifiant_seance="S4", heure_debut="midi")]
    second = [_sessions(identifiant_seance="S1", thematique="Cuisine", adresse=""),
              _sessions(identifiant_seance="S9", duree_minutes="5", presents="9")]
    submissions = [Submission(to_contract(pd.DataFrame(rows, dtype=object), WORKSHOPS).frame,
                              "partenaire", ["91477"]) for rows in (first, second)]
    found = {(p.rule, p.column, number, p.line)
             for number, problems in enumerate(run_suite_on_batch(WORKSHOPS.dataset,
                                                                  submissions))
             for p in problems}
    expected = pandas_findings(batch_frame(WORKSHOPS.dataset, submissions),
                               load_suite(WORKSHOPS.dataset), suite_parameters(submissions))
    assert found == expected
    assert {(column, number, line) for _rule, column, number, line in found} >= {
        ("commune", 0, 3), ("presents", 0, 4), ("inscrits", 0, 5), ("heure_debut", 0, 6),
        ("identifiant_seance", 0, 5), ("thematique", 1, 2), ("duree_minutes", 1, 3)}


def test_gx_builds_configurations_as_before_outside_a_run():
    from great_expectations.expectations.core import ExpectColumnValuesToNotBeNull
    from great_expectations.expectations.expectation import Expectation

    before = Expectation.__dict__["configuration"]
    expectation = ExpectColumnValuesToNotBeNull(column="commune")
    with validation._configurations_built_once():
        assert expectation.configuration is expectation.configuration
    assert Expectation.__dict__["configuration"] is before
    assert expectation.configuration is not expectation.configuration
    assert expectation.configuration == expectation.configuration
