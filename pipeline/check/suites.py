"""Great Expectations suites generated from the contracts and stored in ``expectations/``.

Each expectation carries, in its ``meta``, the French rule, the fix and the severity that the
partner report shows, so the suite file is the single reviewed description of the checks.
``python -m pipeline.check.suites`` rewrites the files; a test fails when they drift from the
contracts.

A suite runs once on a batch of files of the same dataset (GX's cost is mostly a fixed price per
expectation and run), so the two rules that depend on the file name columns the batch adds:
``_fichier`` (the file's number in the batch: identifiers are unique within a file) and
``_partenaire_commune`` (``partenaire|code INSEE``: each partner may only send data for the
communes of its agreement, given as the ``communes_des_partenaires`` parameter).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from pipeline.config import REPO_ROOT
from pipeline.contracts.datasets import CONTRACTS
from pipeline.contracts.model import Column, Contract

EXPECTATIONS_DIR = REPO_ROOT / "expectations"
ISO_DATE = r"^\d{4}-\d{2}-\d{2}$"
HOUR_MINUTE = r"^([01]\d|2[0-3]):[0-5]\d$"
PARTNER_COMMUNES = "communes_des_partenaires"
FILE_COLUMN = "_fichier"
PARTNER_COMMUNE_COLUMN = "_partenaire_commune"


def _expectation(kind: str, kwargs: dict, column: str, rule: str, fix: str,
                 severity: str = "erreur") -> dict:
    return {
        "type": kind,
        "kwargs": kwargs,
        "meta": {"colonne": column, "regle": rule, "correction": fix, "gravite": severity},
    }


def _column_expectations(contract: Contract, col: Column) -> list[dict]:
    name = col.name
    # No expect_column_to_exist: the reader gives every contract column to the frame it hands
    # to GX and reports a missing required one itself (with its French label), so such a rule
    # could never fail; at ~4 ms of GX overhead per expectation and file it was a third of the
    # validation time of a venue file.
    out: list[dict] = []
    if col.required:
        out.append(_expectation("expect_column_values_to_not_be_null", {"column": name}, name,
                                f"« {col.label} » : cette case doit être remplie.",
                                f"Indiquez : {col.description}"))
    if col.required_when_status and contract.status_column:
        codes = ", ".join(repr(s) for s in col.required_when_status)
        labels = [c.label for c in contract.column(contract.status_column).choices
                  if c.code in col.required_when_status]
        out.append(_expectation(
            "expect_column_values_to_not_be_null",
            {"column": name, "row_condition": f"{contract.status_column} in [{codes}]",
             "condition_parser": "pandas"},
            name,
            f"« {col.label} » : cette case doit être remplie quand le statut est "
            f"« {' / '.join(labels)} ».",
            f"Indiquez : {col.description}"))
    if col.type == "insee" and name == contract.commune_column:
        out.append(_expectation(
            "expect_column_values_to_be_in_set",
            {"column": PARTNER_COMMUNE_COLUMN, "value_set": {"$PARAMETER": PARTNER_COMMUNES}},
            name,
            "Cette commune ne fait pas partie des communes pour lesquelles vous pouvez "
            "envoyer des données.",
            "Indiquez le code INSEE (5 caractères) d'une de vos communes, ou demandez à "
            "l'agglomération d'ajouter cette commune à votre convention."))
    elif col.type == "date":
        out.append(_expectation("expect_column_values_to_match_regex",
                                {"column": name, "regex": ISO_DATE}, name,
                                "Cette date n'est pas lisible.",
                                "Écrivez la date sous la forme JJ/MM/AAAA, par exemple 31/01/2026."))
    elif col.type == "time":
        out.append(_expectation("expect_column_values_to_match_regex",
                                {"column": name, "regex": HOUR_MINUTE}, name,
                                "Cette heure n'est pas lisible.",
                                "Écrivez l'heure sous la forme 14h30 ou 14:30."))
    elif col.type in ("integer", "decimal") and (col.minimum is not None or col.maximum is not None):
        kind = "un nombre entier" if col.type == "integer" else "un nombre"
        out.append(_expectation(
            "expect_column_values_to_be_between",
            {"column": name, "min_value": col.minimum, "max_value": col.maximum}, name,
            f"La valeur doit être {kind} entre {col.minimum} et {col.maximum}.",
            f"Corrigez le nombre ({col.description})"))
    elif col.type == "multichoice":
        options = "|".join(re.escape(c.code) for c in col.choices)
        out.append(_expectation(
            "expect_column_values_to_match_regex",
            {"column": name, "regex": f"^(?:{options})(?:\\|(?:{options}))*$"}, name,
            "Une ou plusieurs valeurs ne font pas partie de la liste nationale.",
            "Choisissez parmi : " + " ; ".join(col.choice_labels)
            + ". Séparez plusieurs valeurs par « | »."))
    elif col.type == "choice":
        out.append(_expectation(
            "expect_column_values_to_be_in_set",
            {"column": name, "value_set": [c.code for c in col.choices]}, name,
            "Cette valeur ne fait pas partie de la liste autorisée.",
            "Choisissez parmi : " + " ; ".join(col.choice_labels) + "."))
    if col.pattern:
        out.append(_expectation("expect_column_values_to_match_regex",
                                {"column": name, "regex": col.pattern}, name,
                                "Cette valeur n'a pas le format attendu.",
                                f"Écrivez {col.pattern_hint or col.description}."))
    if col.max_length:
        out.append(_expectation(
            "expect_column_value_lengths_to_be_between",
            {"column": name, "max_value": col.max_length}, name,
            f"Ce texte dépasse {col.max_length} caractères.",
            "Raccourcissez-le ; le détail peut aller dans la présentation détaillée.",
            "avertissement"))
    if name == contract.key:
        out.append(_expectation("expect_compound_columns_to_be_unique",
                                {"column_list": [FILE_COLUMN, name],
                                 "ignore_row_if": "any_value_is_missing"}, name,
                                "Cet identifiant apparaît sur plusieurs lignes du fichier.",
                                "Donnez un identifiant différent à chaque ligne."))
    return out


def build_suite(contract: Contract) -> dict:
    expectations: list[dict] = []
    for col in contract.columns:
        expectations.extend(_column_expectations(contract, col))
    for rule in contract.pair_rules:
        expectations.append(_expectation(
            "expect_column_pair_values_a_to_be_greater_than_b",
            {"column_A": rule.larger, "column_B": rule.smaller, "or_equal": True,
             "ignore_row_if": "either_value_is_missing"},
            rule.smaller, rule.message, rule.fix, rule.severity))
    for rule in contract.together_rules:
        expectations.append(_expectation(
            "expect_column_values_to_not_be_null",
            {"column": rule.then, "row_condition": f"{rule.when}.notnull()",
             "condition_parser": "pandas"},
            rule.then, rule.message, rule.fix, rule.severity))
    return {
        "name": contract.dataset,
        "expectations": expectations,
        "meta": {"contrat": contract.dataset, "titre": contract.title,
                 "genere_par": "python -m pipeline.check.suites"},
    }


def suite_path(dataset: str) -> Path:
    return EXPECTATIONS_DIR / f"{dataset}.json"


def render_suite(contract: Contract) -> str:
    return json.dumps(build_suite(contract), ensure_ascii=False, indent=2) + "\n"


def load_suite(dataset: str) -> dict:
    return json.loads(suite_path(dataset).read_text(encoding="utf-8"))


def write_suites() -> list[Path]:
    EXPECTATIONS_DIR.mkdir(exist_ok=True)
    written = []
    for contract in CONTRACTS.values():
        path = suite_path(contract.dataset)
        path.write_text(render_suite(contract), encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":
    for written_path in write_suites():
        print(f"écrit {written_path.relative_to(REPO_ROOT)}")
