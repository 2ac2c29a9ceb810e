"""Run a dataset's Great Expectations suite (from ``expectations/``) on partner files.

The files of one dataset are validated together, in one GX run on their stacked rows: GX's cost
is mostly a fixed price per expectation and run (~3 ms), which a run per file paid hundreds of
times. GX finds the failing rows; this module hands them back to their files as ``Problem``
records in the partner's terms: spreadsheet line, column, value as written, rule and fix (from
the suite's meta).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from functools import lru_cache

import pandas as pd

from pipeline.check.suites import FILE_COLUMN, PARTNER_COMMUNE_COLUMN, PARTNER_COMMUNES, load_suite
from pipeline.contracts.datasets import contract_for
from pipeline.contracts.model import Contract
from pipeline.problems import Problem
from pipeline.read.reading import ReadResult, canonical_text

LINE_COLUMN = "_ligne"


@lru_cache(maxsize=8)
def _validation_definition(dataset: str):
    # GX would otherwise phone home for usage statistics and draw progress bars in task logs.
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    import great_expectations as gx
    from great_expectations.core import ExpectationSuite
    from great_expectations.data_context.types.base import ProgressBarsConfig
    from great_expectations.execution_engine import pandas_execution_engine

    # GX fingerprints every in-memory batch below this size (md5 of a hash of every cell: a
    # quarter of a run on 420,000 passes) for batch markers that nothing here reads; above it
    # GX skips the fingerprint itself. Results are never stored, so never fingerprint.
    pandas_execution_engine.HASH_THRESHOLD = 0
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    suite = context.suites.add(ExpectationSuite(**load_suite(dataset)))
    batch = (context.data_sources.add_pandas(f"fichier_{dataset}")
             .add_dataframe_asset(dataset)
             .add_batch_definition_whole_dataframe("fichier_entier"))
    return context.validation_definitions.add(
        gx.ValidationDefinition(name=f"valider_{dataset}", data=batch, suite=suite))


@dataclass
class Submission:
    """One file's rows, read into its contract, on their way to the suite."""
    frame: pd.DataFrame
    partner: str
    communes: list[str]  # the communes the partner's agreement covers


def batch_frame(dataset: str, submissions: list[Submission]) -> pd.DataFrame:
    """The files' rows stacked, with the two columns the suite's batch rules read."""
    commune_column = contract_for(dataset).commune_column
    parts = []
    for number, submission in enumerate(submissions):
        part = submission.frame.assign(**{FILE_COLUMN: number})
        if commune_column:
            communes = part[commune_column]
            pairs = pd.Series(None, index=part.index, dtype=object)
            filled = communes.notna()
            pairs[filled] = submission.partner + "|" + communes[filled].astype(str)
            part[PARTNER_COMMUNE_COLUMN] = pairs
        parts.append(part)
    return pd.concat(parts, ignore_index=True)


def suite_parameters(submissions: list[Submission]) -> dict:
    return {PARTNER_COMMUNES: sorted({f"{s.partner}|{commune}" for s in submissions
                                      for commune in s.communes})}


def _validator(dataset: str, frame: pd.DataFrame, result_format: object):
    # The validation definition's own ``run`` also stores every result in the context's results
    # store and checks the stores are fresh: a tenth of the time for a small file, for nothing
    # we read. Its Validator runs the same suite on the same batch definition.
    from great_expectations.validator.v1_validator import Validator

    definition = _validation_definition(dataset)
    return definition.suite, Validator(definition.batch_definition, result_format,
                                       {"dataframe": frame})


@contextmanager
def _configurations_built_once() -> Iterator[None]:
    """Within the block, each GX expectation builds its configuration once. GX rebuilds it
    (a pydantic ``dict()`` of every field) each time it reads one of its arguments, some 60
    times per expectation and run; for the partners' communes rule that means copying the
    batch's list of ``partenaire|commune`` pairs each time: a quarter of a workshop batch's
    run (``docs/performance.md``). The expectations a run reads are the ones it creates from
    the suite for that run and never changes; the memory is dropped at the end of the block."""
    from great_expectations.expectations.expectation import Expectation

    build = Expectation.__dict__["configuration"]
    built: dict[int, tuple[object, object]] = {}

    def configuration(expectation):
        known = built.get(id(expectation))
        if known is None or known[0] is not expectation:  # keeps the object: ids stay unique
            known = built[id(expectation)] = (expectation, build.fget(expectation))
        return known[1]

    Expectation.configuration = property(configuration, doc=build.__doc__)
    try:
        yield
    finally:
        Expectation.configuration = build
        built.clear()


@lru_cache(maxsize=8)
def suite_columns(dataset: str) -> tuple[str, ...]:
    """The columns the dataset's suite reads (rules, pairs, keys, row conditions), and the
    other words of its row conditions."""
    names: dict[str, None] = {}
    for expectation in load_suite(dataset)["expectations"]:
        kwargs = expectation["kwargs"]
        for key in ("column", "column_A", "column_B"):
            if key in kwargs:
                names[kwargs[key]] = None
        names.update(dict.fromkeys(kwargs.get("column_list", ())))
        if "row_condition" in kwargs:  # ``statut in [...]``, ``date_utilisation.notnull()``:
            # every name in it (those that are not columns are left out by the caller)
            names.update(dict.fromkeys(re.findall(r"[A-Za-z_]\w*", kwargs["row_condition"])))
    return tuple(names)


def _failures(dataset: str, frame: pd.DataFrame, parameters: dict) -> list:
    """The failing expectations' detailed results. Most batches pass: a yes/no run costs about
    half of one that lists every failing row, which only the failing expectations need.
    GX is given only the columns the suite reads: it copies every column of the batch for
    each rule that skips empty cells (a venue batch has nine more). Rows keep their
    positions, by which problems go back to their file and line."""
    frame = frame[[c for c in frame.columns if c in suite_columns(dataset)]]
    suite, validator = _validator(dataset, frame, "BOOLEAN_ONLY")
    with _configurations_built_once():
        outcome = validator.validate_expectation_suite(suite, parameters)
    if outcome.success:
        return []
    failing = {r.expectation_config.id for r in outcome.results if not r.success}
    _suite, detailed = _validator(dataset, frame, {"result_format": "COMPLETE"})
    with _configurations_built_once():
        return [detailed.validate_expectation(expectation, parameters)
                for expectation in suite.expectations if expectation.id in failing]


def run_suite_on_batch(dataset: str, submissions: list[Submission]) -> list[list[Problem]]:
    """The suite's problems for each submitted file, from one GX run on all of them."""
    frame = batch_frame(dataset, submissions)
    failures = _failures(dataset, frame, suite_parameters(submissions))
    if len(submissions) > 1 and any(not (f.result or {}).get("unexpected_index_list")
                                    for f in failures):
        # A rule failed as a whole (GX raised), not on rows: only the files one by one can
        # tell whose it is.
        return [run_suite_on_batch(dataset, [s])[0] for s in submissions]
    files, lines = frame[FILE_COLUMN].to_numpy(), frame[LINE_COLUMN].to_numpy()
    problems: list[list[Problem]] = [[] for _ in submissions]
    for failure in failures:
        meta = failure.expectation_config.meta or {}
        column = meta.get("colonne", "")
        rule, fix = meta.get("regle", ""), meta.get("correction", "")
        severity = meta.get("gravite", "erreur")
        positions = (failure.result or {}).get("unexpected_index_list") or []
        if not positions:
            problems[0].append(Problem(None, column, "", rule, fix, severity))
            continue
        values = frame[column] if column in frame else None
        for position in positions:
            value = "" if values is None else canonical_text(values.iat[position])
            problems[int(files[position])].append(
                Problem(int(lines[position]), column, value, rule, fix, severity))
    return problems


HEADER_ONLY = ("Le fichier ne contient que la ligne d'en-tête : aucune ligne de données n'a "
               "été trouvée en dessous.")
HEADER_ONLY_FIX = ("Vérifiez que vous avez exporté les bonnes lignes (un filtre du tableur, une "
                   "autre feuille) puis déposez à nouveau le fichier.")


def _cell_problems(read: ReadResult) -> list[Problem]:
    """Copies: the suite's problems are quoted as written in place, never the reader's."""
    return [replace(p) for p in read.problems]


def file_problems(read: ReadResult) -> list[Problem]:
    """Problems of the file as a whole: no rows at all (then missing columns would only
    distract from the real cause), or required columns missing."""
    if read.frame.empty:
        return [Problem(None, "", "", HEADER_ONLY, HEADER_ONLY_FIX, "erreur")]
    problems = []
    for name in read.missing_columns:
        problems.append(Problem(None, name, "", f"La colonne obligatoire « {name} » est absente.",
                                "Ajoutez cette colonne (voir le modèle de fichier sur le site).",
                                "erreur"))
    return problems


def quote_as_written(read: ReadResult, problems: list[Problem]) -> list[Problem]:
    """Each problem's value as the partner wrote it, not as converted (``12/01/2026`` rather
    than ``2026-01-12``): the report must let them find the cell in their own file."""
    for problem in problems:
        problem.value = read.as_written(problem.column, problem.line, problem.value)
    return problems


def _not_repeated(read: ReadResult, reading: list[Problem], suite: list[Problem]) -> list[Problem]:
    """The suite's problems, quoted as written, without a column already reported as missing
    or a cell the reader refused (nor, for a warning, a cell the reader reported at all)."""
    missing = set(read.missing_columns)
    reader_errors = {(p.line, p.column) for p in reading if p.severity == "erreur"}
    reported = {(p.line, p.column) for p in reading}
    suite = [p for p in suite if p.column not in missing and (p.line, p.column) not in
             (reader_errors if p.severity == "erreur" else reported)]
    return quote_as_written(read, suite)


def _without_refused_warnings(reading: list[Problem], suite: list[Problem]) -> list[Problem]:
    """A cell the reader converted with a warning and the suite then refused keeps only the
    refusal: it was not really converted."""
    refused = {(p.line, p.column) for p in suite if p.severity == "erreur"}
    return [p for p in reading if p.severity == "erreur" or p.line is None
            or (p.line, p.column) not in refused]


def _merge(read: ReadResult, suite: list[Problem]) -> list[Problem]:
    """Reading problems first, then the suite's."""
    reading = _cell_problems(read) + file_problems(read)
    suite = _not_repeated(read, reading, suite)
    return _without_refused_warnings(reading, suite) + suite


def validate_chunk(read: ReadResult, contract: Contract, partner: str,
                   communes: list[str]) -> tuple[list[Problem], list[Problem]]:
    """One chunk of a file too large to validate whole: the reading problems of its cells and
    the suite's problems (one GX run). The file's own problems (``file_problems``) and the
    uniqueness of keys across chunks are the caller's."""
    reading = _cell_problems(read)
    if read.frame.empty:
        return reading, []
    suite = run_suite_on_batch(contract.dataset, [Submission(read.frame, partner, communes)])[0]
    suite = _not_repeated(read, reading, suite)
    return _without_refused_warnings(reading, suite), suite


@lru_cache(maxsize=8)
def rule_order(dataset: str) -> dict[tuple[str, str, str], int]:
    """(column, rule, fix) of each expectation -> its place in the suite: the order in which
    a report lists the suite's rules."""
    order: dict[tuple[str, str, str], int] = {}
    for number, expectation in enumerate(load_suite(dataset)["expectations"]):
        meta = expectation.get("meta") or {}
        order.setdefault((meta.get("colonne", ""), meta.get("regle", ""),
                          meta.get("correction", "")), number)
    return order


def uniqueness_rule(dataset: str) -> Problem | None:
    """The suite's rule that a key appears once per file, as a problem template."""
    for expectation in load_suite(dataset)["expectations"]:
        if expectation["type"] == "expect_compound_columns_to_be_unique":
            meta = expectation.get("meta") or {}
            return Problem(None, meta.get("colonne", ""), "", meta.get("regle", ""),
                           meta.get("correction", ""), meta.get("gravite", "erreur"))
    return None


def validate_many(files: list[tuple[ReadResult, Contract, str, list[str]]]
                  ) -> list[list[Problem]]:
    """Each file's problems, from (read file, contract, partner id, the partner's communes);
    the suite runs once per dataset on all the files that have rows."""
    return [problems for problems, _suite in validate_files(files)]


def validate_files(files: list[tuple[ReadResult, Contract, str, list[str]]]
                   ) -> list[tuple[list[Problem], list[Problem] | None]]:
    """``validate_many``, with each file's share of the suite's findings as GX reported them
    (None for a file without rows, on which the suite did not run)."""
    by_dataset: dict[str, list[int]] = {}
    for number, (read, contract, _partner, _communes) in enumerate(files):
        if not read.frame.empty:
            by_dataset.setdefault(contract.dataset, []).append(number)
    suite_problems: dict[int, list[Problem]] = {}
    for dataset, numbers in by_dataset.items():
        submissions = [Submission(files[n][0].frame, files[n][2], files[n][3]) for n in numbers]
        suite_problems.update(zip(numbers, run_suite_on_batch(dataset, submissions)))
    return [(_merge(read, [replace(p) for p in suite_problems.get(number, [])]),
             suite_problems.get(number))
            for number, (read, *_rest) in enumerate(files)]
