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
        assert dataset.title == contract.published_title
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
