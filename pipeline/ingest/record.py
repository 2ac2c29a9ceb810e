"""Recording a file's verdict: ledger row and accepted rows in one transaction, then its
report beside it and the file filed away (archive or quarantine)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from pipeline.check import results
from pipeline.config import DataPaths, Partner, Territory
from pipeline.contracts.datasets import CONTRACTS, contract_for
from pipeline.faults import fault_point
from pipeline.files import _file_away, stored_name, write_atomically
from pipeline.ingest import safety_net
from pipeline.ingest.screen import Examination
from pipeline.load import ledger, warehouse
from pipeline.problems import Problem
from pipeline.receive.filestate import FileSignature, ensure_unchanged, unchanged
from pipeline.receive.filing import Outcome
from pipeline.report.reports import render_report, report_path
from pipeline.stages import stage

log = logging.getLogger(__name__)


@dataclass
class Received:
    """A new file, fingerprinted: who sent it, its bytes' SHA-256, when."""
    partner: Partner
    path: Path
    sha256: str
    received_at: datetime
    signature: FileSignature | None = None  # size, time and inode when it was fingerprinted


def stored_path(paths: DataPaths, partner: Partner, sha256: str, name: str,
                accepted: bool) -> Path:
    base = paths.archive if accepted else paths.quarantine
    return base / partner.id / stored_name(sha256, name)


def status_of(problems: list[Problem]) -> tuple[str, int, int]:
    """The verdict, with the lines in error and in warning. A problem may stand for several
    lines (the undetailed rest of a rule, large files)."""
    errors = sum(p.count for p in problems if p.severity == "erreur")
    warnings = sum(p.count for p in problems) - errors
    status = (ledger.STATUS_REJECTED if errors else
              ledger.STATUS_ACCEPTED_WITH_WARNINGS if warnings else ledger.STATUS_ACCEPTED)
    return status, errors, warnings


def record(file: Received, exam: Examination, territory: Territory,
           paths: DataPaths) -> Outcome:
    """The file's verdict committed (ledger entry and accepted rows in one transaction), then
    its report beside it and the file filed away."""
    entry = _entry(file, exam, territory, paths)
    with stage("load", file=file.path.name, rows=0) as measured, \
            warehouse.engine().begin() as connection:
        if entry.accepted and exam.large is not None:
            entry.rows_loaded = exam.large.load(connection, file.sha256, entry.received_at)
        elif entry.accepted and exam.frame is not None:
            entry.rows_loaded = warehouse.supersede_and_insert(
                connection, contract_for(exam.dataset), file.partner.id, file.sha256,
                entry.received_at, exam.frame)
        ledger.insert(connection, entry)
        measured["rows"] = entry.rows_loaded
        ensure_unchanged(file.path, file.signature)  # rolls back if it is still being written
        fault_point("ingest-before-commit")
    fault_point("ingest-after-commit")
    if exam.large is not None:
        exam.large.close()
    if exam.validation is not None:
        results.save(paths.root, file.partner.id, file.sha256, exam.validation)
    finish(entry, file, paths)
    log.info("%s/%s: %s (%d lignes, %d erreurs)", file.partner.id, file.path.name, entry.status,
             entry.rows_loaded, entry.errors)
    return outcome_of(entry, file)


def _entry(file: Received, exam: Examination, territory: Territory,
           paths: DataPaths) -> ledger.LedgerEntry:
    """The ledger row of the verdict, its report included; nothing loaded yet."""
    status, errors, warnings = status_of(exam.problems)
    report = render_report(
        territory_name=territory.name, partner_name=file.partner.name,
        original_name=file.path.name,
        dataset_title=CONTRACTS[exam.dataset].title if exam.dataset in CONTRACTS
        else exam.dataset,
        received_at=file.received_at.astimezone(ZoneInfo(territory.timezone)),
        sha256=file.sha256, status=status, rows_total=exam.rows, problems=exam.problems,
        unknown_columns=exam.unknown_columns, headers=exam.headers)
    stored = stored_path(paths, file.partner, file.sha256, file.path.name,
                         status != ledger.STATUS_REJECTED)
    return ledger.LedgerEntry(
        partner=file.partner.id, sha256=file.sha256, dataset=exam.dataset,
        original_name=file.path.name,
        received_at=file.received_at.isoformat(timespec="microseconds"), status=status,
        rows_total=exam.rows, rows_loaded=0, errors=errors, warnings=warnings,
        stored_path=str(stored.relative_to(paths.root)), report=report)


def outcome_of(entry: ledger.LedgerEntry, file: Received) -> Outcome:
    return Outcome(file.partner.id, file.path.name, file.sha256, entry.dataset, entry.status,
                   entry.rows_loaded, entry.errors, entry.warnings, duplicate=False)


def finish(entry: ledger.LedgerEntry, file: Received, paths: DataPaths) -> None:
    """After the commit: the report beside the file, then the file out of the inbox. Not
    moved if it changed since it was read: a writer still at work would write on into the
    archived copy; left in place, its complete bytes are a new file for the next scan."""
    partner, path = file.partner, file.path
    write_atomically(report_path(path.parent, path.name), entry.report)
    safety_net.forget(paths, partner, entry.sha256)
    if file.signature is not None and not unchanged(path, file.signature):
        log.warning("%s/%s : modifié après son enregistrement, laissé dans le dossier de "
                    "dépôt (il sera traité à nouveau)", partner.id, path.name)
        return
    _file_away(path, paths.root / entry.stored_path)


def refile_known(known: ledger.LedgerEntry, partner: Partner, path: Path, paths: DataPaths,
                 territory: Territory) -> Outcome:
    """The same bytes were already processed (a re-drop, or a crash before filing away): their
    stored report is written back, nothing else changes."""
    received = datetime.fromisoformat(known.received_at).astimezone(ZoneInfo(territory.timezone))
    note = (f"\nCe fichier est identique au fichier « {known.original_name} » reçu le "
            f"{received:%d/%m/%Y à %H:%M} : il n'a rien changé.\n")
    report = known.report if path.name == known.original_name else known.report + note
    write_atomically(report_path(path.parent, path.name), report)
    safety_net.forget(paths, partner, known.sha256)  # a kill after the commit left marks
    _file_away(path, paths.root / known.stored_path)
    return Outcome(partner.id, path.name, known.sha256, known.dataset, known.status, 0,
                   known.errors, known.warnings, duplicate=True)
