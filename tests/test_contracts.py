"""Each contract is the one place that states a fact about its dataset: what the contracts name
exists (cross-check implementations, status codes, date columns), what they state reaches the
partners' guide, and the indicator catalogue takes its titles and dates from them."""

from __future__ import annotations

import html
import re
from pathlib import Path

from pipeline.check.crosschecks import CHECKS
from pipeline.contracts.datasets import CONTRACTS
from transforms.catalogue import CANCELLED, DATASETS, HELD, STATUS


def test_every_named_cross_check_is_implemented_and_every_implementation_is_named():
    named = [check.id for contract in CONTRACTS.values() for check in contract.cross_checks]
    assert len(named) == len(set(named)), "a cross-check id is used by two contracts"
    assert set(named) == set(CHECKS)


def test_status_codes_and_date_columns_name_what_the_contract_holds():
    for contract in CONTRACTS.values():
        codes = ({c.code for c in contract.column(contract.status_column).choices}
                 if contract.status_column else set())
        for status in (contract.held_status, contract.cancelled_status):
            assert status is None or status in codes, (contract.dataset, status)
        for column in contract.columns:
            assert set(column.required_when_status) <= codes, (contract.dataset, column.name)
        if contract.date_column:
            assert contract.column(contract.date_column).type == "date"


def test_the_catalogue_takes_titles_dates_and_statuses_from_the_contracts():
    for dataset in DATASETS.values():
        contract = CONTRACTS[dataset.id]
        assert dataset.title == contract.title
        assert dataset.date_column == contract.date_column
        assert dataset.date_meaning == contract.date_meaning != ""
    workshops = CONTRACTS["ateliers"]
    assert (STATUS, HELD, CANCELLED) == (workshops.status_column, workshops.held_status,
                                         workshops.cancelled_status)


def _text(page: str) -> str:
    """The page's text, tags removed, entities decoded, white space collapsed."""
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", "", page)))


def test_every_rule_of_every_contract_is_in_the_partners_guide(demo_site: Path):
    guide = _text((demo_site / "partenaires" / "index.html").read_text(encoding="utf-8"))
    for contract in CONTRACTS.values():
        assert contract.title in guide
        assert contract.description in guide
        for rule in contract.pair_rules:
            assert (f"« {rule.smaller} » ne peut pas dépasser « {rule.larger} » "
                    f"({rule.severity})") in guide, (contract.dataset, rule)
        for rule in contract.together_rules:
            assert f"{rule.message} ({rule.severity})" in guide, (contract.dataset, rule)
        for check in contract.cross_checks:
            assert f"{check.message} ({check.severity})" in guide, (contract.dataset, check.id)
        for column in contract.columns:
            if column.required_when_status:
                labels = " ou ".join(contract.status_labels(column.required_when_status))
                assert f"si {labels.lower()}" in guide, (contract.dataset, column.name)


def _guide_sections(page: str) -> dict[str, str]:
    """Each contract's part of the partners' guide (its heading up to the next contract's)."""
    parts = re.split(r'(?=<h2 id="contrat-)', page)
    return {re.match(r'<h2 id="contrat-([^"]+)"', part).group(1): part
            for part in parts if part.startswith('<h2 id="contrat-')}


def _column_rows(section: str) -> dict[str, str]:
    """The text of each column's row of a contract's table, by column name."""
    rows = re.findall(r"<tr>\s*<th scope=\"row\"><code>([^<]+)</code></th>(.*?)</tr>", section,
                      flags=re.S)
    return {name: _text(cells).strip() for name, cells in rows}


def _required_text(contract, column) -> str:
    if column.required:
        return "oui"
    if column.required_when_status:
        return "si " + " ou ".join(contract.status_labels(column.required_when_status)).lower()
    return "non"


def _bounds_text(column) -> str | None:
    if column.minimum is not None and column.maximum is not None:
        return f"Entre {column.minimum} et {column.maximum}."
    if column.minimum is not None:
        return f"Au moins {column.minimum}."
    if column.maximum is not None:
        return f"Au plus {column.maximum}."
    return None


def test_the_partners_guide_states_every_rule_of_every_column(demo_site: Path):
    """Each column's row says all its rules: required, bounds, choices, pattern (in words and
    as the regular expression), length and accepted headers; each contract's part states its
    rules between columns and its cross-checks."""
    sections = _guide_sections((demo_site / "partenaires" / "index.html")
                               .read_text(encoding="utf-8"))
    assert sorted(sections) == sorted(CONTRACTS)
    for contract in CONTRACTS.values():
        section = sections[contract.dataset]
        rows = _column_rows(section)
        assert list(rows) == contract.column_names, contract.dataset
        for column in contract.columns:
            row, where = rows[column.name], (contract.dataset, column.name)
            assert row.startswith(_required_text(contract, column) + " "), where
            assert column.description in row and column.example in row, where
            for label in column.choice_labels:
                assert label in row, (*where, label)
            bounds = _bounds_text(column)
            assert bounds is None or bounds in row, (*where, bounds)
            if column.pattern:
                assert f"expression régulière : {column.pattern}" in row, where
                assert column.pattern_hint and column.pattern_hint in row, where
            if column.max_length:
                assert f"Au plus {column.max_length} caractères." in row, where
            for alias in column.aliases:
                assert alias in row, (*where, alias)
            if not column.aliases:
                assert row.endswith("aucun"), where
        text = _text(section)
        for rule in contract.pair_rules:
            assert f"« {rule.smaller} » ne peut pas dépasser « {rule.larger} »" in text, rule
        for rule in contract.together_rules:
            assert f"{rule.message} ({rule.severity})" in text, rule
        for check in contract.cross_checks:
            assert f"{check.message} ({check.severity})" in text, check.id
