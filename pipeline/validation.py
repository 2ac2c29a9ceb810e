"""Run a dataset's Great Expectations suite (from ``expectations/``) on a partner file.

GX finds the failing rows; this module turns its results into ``Problem`` records in the
partner's terms: spreadsheet line, column, value as written, rule and fix (from the suite's meta).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from functools import lru_cache

import pandas as pd

from pipeline.contracts import Contract
from pipeline.reading import ReadResult
from pipeline.suites import PARTNER_COMMUNES, load_suite

MAX_DETAILS_PER_RULE = 50
LINE_COLUMN = "_ligne"


@dataclass
class Problem:
    line: int | None
    column: str
    value: str
    rule: str
    fix: str
    severity: str  # "erreur" rejects the file, "avertissement" only informs
    count: int = 1  # for a rule summarised as a whole (e.g. missing column)


@lru_cache(maxsize=8)
def _validation_definition(dataset: str):
    # GX would otherwise phone home for usage statistics and draw progress bars in task logs.
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    import great_expectations as gx
    from great_expectations.core import ExpectationSuite
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    suite = context.suites.add(ExpectationSuite(**load_suite(dataset)))
    batch = (context.data_sources.add_pandas(f"fichier_{dataset}")
             .add_dataframe_asset(dataset)
             .add_batch_definition_whole_dataframe("fichier_entier"))
    return context.validation_definitions.add(
        gx.ValidationDefinition(name=f"valider_{dataset}", data=batch, suite=suite))


def _display(value: object) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


COMPLETE = {"result_format": "COMPLETE", "unexpected_index_column_names": [LINE_COLUMN],
            "partial_unexpected_count": MAX_DETAILS_PER_RULE}


def _validate(frame: pd.DataFrame, dataset: str, partner_communes: list[str], result_format):
    # The validation definition's own ``run`` also stores every result in the context's results
    # store and checks the stores are fresh: a tenth of the time for a small file, for nothing
    # we read. Its Validator runs the same suite on the same batch definition.
    from great_expectations.validator.v1_validator import Validator

    definition = _validation_definition(dataset)
    validator = Validator(definition.batch_definition, result_format, {"dataframe": frame})
    return validator.validate_expectation_suite(definition.suite,
                                                {PARTNER_COMMUNES: partner_communes})


def run_suite(frame: pd.DataFrame, dataset: str, partner_communes: list[str]) -> list[Problem]:
    # Most files pass: a yes/no pass costs half of one that lists every failing row, which
    # only a file with a failure needs.
    if _validate(frame, dataset, partner_communes, "BOOLEAN_ONLY").success:
        return []
    result = _validate(frame, dataset, partner_communes, COMPLETE)
    problems: list[Problem] = []
    for outcome in result.results:
        if outcome.success:
            continue
        meta = outcome.expectation_config.meta or {}
        column = meta.get("colonne", "")
        severity = meta.get("gravite", "erreur")
        rows = (outcome.result or {}).get("unexpected_index_list") or []
        if not rows:
            problems.append(Problem(None, column, "", meta.get("regle", ""),
                                    meta.get("correction", ""), severity))
            continue
        for row in rows:
            problems.append(Problem(int(row[LINE_COLUMN]), column, _display(row.get(column)),
                                    meta.get("regle", ""), meta.get("correction", ""), severity))
    return problems


def validate(read: ReadResult, contract: Contract, partner_communes: list[str]) -> list[Problem]:
    """Reading problems first, then the suite's; a column already reported as missing is not
    reported again row by row."""
    problems = [Problem(p.line, p.column, p.value, p.rule, p.fix, p.severity)
                for p in read.problems]
    for name in read.missing_columns:
        problems.append(Problem(None, name, "", f"La colonne obligatoire « {name} » est absente.",
                                "Ajoutez cette colonne (voir le modèle de fichier sur le site).",
                                "erreur"))
    if read.frame.empty:
        problems.append(Problem(None, "", "", "Le fichier ne contient aucune ligne de données.",
                                "Vérifiez que vous avez exporté les bonnes lignes.", "erreur"))
        return problems
    already = {(p.line, p.column) for p in problems}
    missing = set(read.missing_columns)
    for problem in run_suite(read.frame, contract.dataset, partner_communes):
        if problem.column in missing or (problem.line, problem.column) in already:
            continue
        problems.append(problem)
    return problems
