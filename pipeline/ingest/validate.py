"""Validating screened files: the batch's Great Expectations runs, then each file's checks
against the warehouse just before its own load."""

from __future__ import annotations

from pathlib import Path

from pipeline.check.crosschecks import run_cross_checks
from pipeline.check import results
from pipeline.check.validation import quote_as_written, validate_files
from pipeline.config import Partner, Territory
from pipeline.ingest.screen import RETRY, Examination
from pipeline.problems import file_problem
from pipeline.read.unreadable import UnreadableFile
from pipeline.stages import stage


def validate_screened(screened: list[tuple[Examination, Partner]], territory: Territory) -> None:
    """The GX suites on every screened file that got that far, one run per dataset (GX costs a
    fixed price per expectation and run); each examination's ``problems`` then holds its
    partner-mapping notes and the suite's findings, and its ``validation`` the suite's result
    kept for stewards."""
    ready = [(exam, partner) for exam, partner in screened
             if exam.read is not None and exam.contract is not None]
    if not ready:
        return
    rows = sum(len(exam.read.frame) for exam, _ in ready)
    with stage("validate", files=len(ready), rows=rows):
        found = validate_files([(exam.read, exam.contract, partner.id,
                                 territory.partner_communes(partner))
                                for exam, partner in ready])
    for (exam, _partner), (problems, suite) in zip(ready, found):
        exam.problems = exam.notes + problems
        if suite is not None:
            exam.validation = results.summarise(exam.contract.dataset, results.tally(suite))


def cross_check(exam: Examination, partner: Partner, path: Path) -> None:
    """Checks against what the warehouse already holds: run just before the file's own load,
    so a file sees every file loaded before it, including earlier ones of its batch."""
    if exam.large is not None:
        _validate_large(exam, path)
        return
    read, contract = exam.read, exam.contract
    if read is None or contract is None or read.frame.empty or read.missing_columns:
        return
    with stage("validate", file=path.name):
        exam.problems += quote_as_written(read, run_cross_checks(contract, read.frame,
                                                                 partner.id))


def _validate_large(exam: Examination, path: Path) -> None:
    """A file of several chunks is validated and cross-checked a chunk at a time, here
    rather than with its batch: its chunks' rows must not all be held at once."""
    with stage("validate", file=path.name, rows=0) as measured:
        try:
            exam.problems = exam.large.validate()
        except UnreadableFile as exc:  # a workbook damaged past its first rows
            exam.large.close()
            exam.problems = [file_problem(str(exc), RETRY)]
        exam.unknown_columns = exam.large.unknown_columns
        exam.validation = exam.large.validation
        measured["rows"] = exam.rows
