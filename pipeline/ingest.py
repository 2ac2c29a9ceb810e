"""Processing dropped files end to end: fingerprint, read, validate, load, report, file away.

Files come in batches (one Airflow task each): each file is read on its own, the batch is
validated in one Great Expectations run per dataset, then each file is cross-checked against the
warehouse, loaded and reported on its own, in order.

Safe to run twice on the same files and safe to kill at any point:
- the ledger row and the warehouse rows are committed in one transaction;
- the file is moved out of the inbox only after that commit, and a file whose fingerprint is
  already in the ledger is simply filed away again, with its stored report.

A file still being written (``pipeline.receive.filestate``: held open for writing, or its size,
time or inode changed between the fingerprint, the commit and the move) is left in its inbox with
nothing committed: the next scan takes the complete file. A file that hits an unexpected error
stays in its inbox for the task's retry; after repeated failures of the same bytes it is
quarantined with a report (``pipeline.receive.safety_net``). Names written into the archive, the
quarantine and beside the file fit the file system's limit (``pipeline.files.fit_name``).
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd

from pipeline.check.crosschecks import run_cross_checks
from pipeline.check.validation import Problem, quote_as_written, validate_many
from pipeline.chunks import LargeFile, first_look, mapped
from pipeline.config import DataPaths, Partner, Territory, data_paths, load_territory
from pipeline.contracts.datasets import CONTRACTS, contract_for
from pipeline.contracts.model import Contract
from pipeline.faults import fault_point
from pipeline.files import _file_away, sha256_of, write_atomically
from pipeline.load import ledger, warehouse
from pipeline.read.mapping import MappingNote
from pipeline.read.places import place_rows
from pipeline.read.privacy import personal_headers, personal_values
from pipeline.read.reading import (ReadResult, map_headers, normalize_header, open_cells,
                                   read_cells_into_contract)
from pipeline.read.unreadable import UnreadableFile
from pipeline.receive import safety_net, withdrawals
from pipeline.receive.filestate import (FileSignature, StillBeingWritten, ensure_unchanged,
                                        paths_open_for_writing, signature_of)
from pipeline.receive.filing import (SPLIT_ADVICE, Outcome, _finish, _not_allowed, _stored_path,
                                     detect_dataset, oversize_reason)
from pipeline.report.reports import render_report, report_path
from pipeline.stages import stage

log = logging.getLogger(__name__)

ASK_STEWARD = ("Vérifiez que vous avez déposé le bon fichier ; sinon, contactez l'équipe de "
               "l'agglomération pour faire évoluer votre convention.")
RETRY = "Déposez à nouveau le fichier une fois corrigé."
MAPPING_ADVICE = ("Signalez-le à l'équipe de l'agglomération, qui complétera la correspondance "
                  "prévue pour vos fichiers.")
PRIVACY_ADVICE = ("N'envoyez que des nombres et des contacts publics : retirez les noms, "
                  "adresses électroniques et numéros de téléphone des personnes, puis déposez "
                  "à nouveau le fichier.")


class FileGone(Exception):
    """The file was listed but is no longer there when its turn comes: nothing to do."""


def dataset_from_headers(headers: list[str], allowed: tuple[str, ...]) -> tuple[str | None, int]:
    """The contract whose columns the headers match best, and how many they match."""
    best, best_score = None, 0
    for dataset, contract in CONTRACTS.items():
        score = len(map_headers(headers, contract)[0])
        if score > best_score or (score == best_score and dataset in allowed):
            best, best_score = dataset, score
    return best, best_score


@dataclass
class Examination:
    dataset: str
    frame: pd.DataFrame | None = None
    problems: list[Problem] = field(default_factory=list)
    unknown_columns: list[str] = field(default_factory=list)
    # Set once the file is read into its contract and can go on to validation.
    read: ReadResult | None = None
    contract: Contract | None = None
    notes: list[Problem] = field(default_factory=list)  # partner-mapping warnings
    # Set instead of ``read`` for a file of more than one chunk: validated on its own,
    # a chunk at a time, just before its load (pipeline.chunks).
    large: LargeFile | None = None

    @property
    def rows(self) -> int:
        if self.large is not None:
            return self.large.rows
        return 0 if self.frame is None else len(self.frame)


def _file_problem(rule: str, fix: str) -> Problem:
    return Problem(None, "", "", rule, fix, "erreur")


def screen(path: Path, partner: Partner, territory: Territory) -> Examination:
    """Everything about one file that needs no other file: size, dataset, reading, privacy.
    Writes nothing."""
    fallback = partner.datasets[0] if partner.datasets else "inconnu"
    too_big = oversize_reason(path)
    if too_big:
        return Examination(fallback, problems=[_file_problem(too_big, SPLIT_ADVICE)])
    dataset, refusal = detect_dataset(partner, path)
    if refusal:
        return Examination(fallback, problems=[_file_problem(refusal, ASK_STEWARD)])
    with stage("read", file=path.name) as measured:
        exam = _read(path, partner, territory, dataset, fallback)
        measured["rows"] = exam.rows
    return exam


def validate_screened(screened: list[tuple[Examination, Partner]], territory: Territory) -> None:
    """The GX suites on every screened file that got that far, one run per dataset; each
    examination's ``problems`` then holds its partner-mapping notes and the suite's findings."""
    ready = [(exam, partner) for exam, partner in screened
             if exam.read is not None and exam.contract is not None]
    if not ready:
        return
    rows = sum(len(exam.read.frame) for exam, _ in ready)
    with stage("validate", files=len(ready), rows=rows):
        found = validate_many([(exam.read, exam.contract, partner.id,
                                territory.partner_communes(partner))
                               for exam, partner in ready])
    for (exam, _partner), problems in zip(ready, found):
        exam.problems = exam.notes + problems


def cross_check(exam: Examination, partner: Partner, path: Path) -> None:
    """Checks against what the warehouse already holds: run just before the file's own load,
    so a file sees every file loaded before it, including earlier ones of its batch."""
    if exam.large is not None:
        with stage("validate", file=path.name, rows=0) as measured:
            try:
                exam.problems = exam.large.validate()
            except UnreadableFile as exc:  # a workbook damaged past its first rows
                exam.large.close()
                exam.problems = [_file_problem(str(exc), RETRY)]
            exam.unknown_columns = exam.large.unknown_columns
            measured["rows"] = exam.rows
        return
    read, contract = exam.read, exam.contract
    if read is None or contract is None or read.frame.empty or read.missing_columns:
        return
    with stage("validate", file=path.name):
        exam.problems += quote_as_written(read, run_cross_checks(contract, read.frame,
                                                                 partner.id))


def _read(path: Path, partner: Partner, territory: Territory, dataset: str | None,
          fallback: str) -> Examination:
    """Reading, dataset recognition and the privacy screen. A file that can go on to
    validation comes back with ``read`` and ``contract`` set; otherwise with its ``problems``."""
    try:  # the first chunk only: a large file is read in full later, a chunk at a time
        look = first_look(open_cells(path, dataset or fallback))
    except UnreadableFile as exc:
        return Examination(dataset or fallback, problems=[_file_problem(str(exc), RETRY)])
    file_date = datetime.fromtimestamp(path.stat().st_mtime, ZoneInfo(territory.timezone)).date()
    cells, notes = mapped(look.chunk.cells, partner.mapping, contract_for(dataset or fallback),
                          file_date, look.chunk.first_line)
    headers = [str(h) for h in cells.columns]
    by_header, score = dataset_from_headers(headers, partner.datasets)
    if dataset is None:
        if by_header not in partner.datasets or score == 0:
            return Examination(fallback, problems=[_file_problem(
                "Le type de données du fichier n'a pas été reconnu.",
                "Mettez le nom des données dans le nom du fichier, par exemple "
                + " ou ".join(f"« {d}_2026.csv »" for d in partner.datasets) + ".")])
        dataset = by_header
    elif by_header not in partner.datasets and score > len(map_headers(headers, contract_for(dataset))[0]):
        return Examination(dataset, problems=[_file_problem(_not_allowed(by_header), ASK_STEWARD)])
    personal = personal_headers(headers, dataset)
    if personal:
        return Examination(dataset, problems=[_file_problem(
            "Le fichier contient des colonnes de données personnelles : "
            + ", ".join(f"« {h} »" for h in personal) + ". Il a été refusé et mis à l'écart.",
            PRIVACY_ADVICE)])
    contract = contract_for(dataset)
    # Venues are placed by pipeline.read.places (names, former names and postal codes); the exact
    # name lookup would place a row whose postal code contradicts its name.
    communes = ({} if contract.commune_name_column else
                {normalize_header(c.name): c.insee for c in territory.communes})
    if look.more:
        large = LargeFile(look.source, contract, partner.id, territory.partner_communes(partner),
                          communes, partner.mapping, _note_problems, _leak_problems,
                          file_date=file_date,
                          place=lambda frame: place_rows(frame, contract, territory))
        return Examination(dataset, contract=contract, large=large)
    read = read_cells_into_contract(cells, contract, communes, first_line=look.chunk.first_line)
    read.encoding, read.delimiter = look.source.encoding, look.source.delimiter
    read.problems += place_rows(read.frame, contract, territory)
    text_columns = [c.name for c in contract.columns if c.type == "text"]
    leaks = personal_values(read.frame, dataset, text_columns)
    if leaks:
        return Examination(dataset, read.frame, _leak_problems(leaks), read.unknown_columns)
    return Examination(dataset, read.frame, unknown_columns=read.unknown_columns, read=read,
                       contract=contract, notes=_note_problems(notes))


def _leak_problems(leaks: list[tuple[int, str, str]]) -> list[Problem]:
    return [Problem(line, column, "(masqué)", "Cette case semble contenir l'adresse électronique "
                    "ou le numéro de portable d'une personne. Le fichier a été refusé et mis à "
                    "l'écart.", PRIVACY_ADVICE, "erreur") for line, column, _value in leaks]


def _note_problems(notes: list[MappingNote]) -> list[Problem]:
    return [Problem(n.line, n.column, n.value, n.message, MAPPING_ADVICE, "avertissement")
            for n in notes]


@dataclass
class _Pending:
    """A new file, screened, waiting for its batch's validation and then its own load."""
    partner: Partner
    path: Path
    sha256: str
    received_at: datetime
    exam: Examination
    signature: FileSignature | None = None  # size, time and inode when it was fingerprinted


def process_files(files: list[tuple[str, str]], territory: Territory | None = None,
                  paths: DataPaths | None = None) -> list[Outcome]:
    """A batch of dropped files (partner id, path): each screened, all validated together
    (one GX run per dataset), then each cross-checked, loaded in its own transaction and
    reported, in the given order. A listed file no longer there is left out of the outcomes."""
    territory = territory or load_territory()
    paths = paths or data_paths()
    outcomes: dict[int, Outcome] = {}
    pending: dict[int, _Pending] = {}
    failed: list[str] = []
    busy = paths_open_for_writing([Path(file_path) for _, file_path in files])
    for number, (partner_id, file_path) in enumerate(files):
        partner, path = territory.partner(partner_id), Path(file_path)
        if not path.is_file():
            if safety_net.quarantined_after_failures(paths, partner, path):
                failed.append(f"{partner.id}/{path.name} (mis en quarantaine après des pannes)")
            else:
                log.warning("%s", _gone(partner, path))
            continue
        with _isolated(failed, partner, path, paths, territory):
            sha256, signature = _fingerprint_complete(path, busy)
            known = ledger.find(partner.id, sha256)
            if known:
                outcomes[number] = _refile_known(known, partner, path, paths, territory)
                continue
            received_at = datetime.fromtimestamp(path.stat().st_mtime, UTC)
            exam = (Examination("retrait") if withdrawals.is_withdrawal(path)  # read at its turn
                    else screen(path, partner, territory))
            pending[number] = _Pending(partner, path, sha256, received_at, exam, signature)
    validate_screened([(p.exam, p.partner) for p in pending.values()], territory)
    for number, item in pending.items():
        with _isolated(failed, item.partner, item.path, paths, territory):
            known = ledger.find(item.partner.id, item.sha256)  # the same bytes twice in a batch
            if known:
                outcomes[number] = _refile_known(known, item.partner, item.path, paths,
                                                 territory)
                continue
            if withdrawals.is_withdrawal(item.path):  # keys to withdraw, not rows
                outcomes[number] = withdrawals.record(item.partner, item.path, item.sha256,
                                                      item.received_at, territory, paths,
                                                      item.signature)
                continue
            cross_check(item.exam, item.partner, item.path)
            outcomes[number] = _record(item, territory, paths)
    if failed:  # the task fails (alert, retry); the others are done and will not be redone
        raise BatchIncomplete(f"{len(failed)} fichier(s) non traité(s) à cause d'une panne, "
                              "laissé(s) dans le dossier de dépôt ou mis en quarantaine : "
                              f"{', '.join(failed)}")
    return [outcomes[number] for number in sorted(outcomes)]


class BatchIncomplete(Exception):
    """Some files of a batch hit an unexpected error (a bug, a full disk): they stay in the
    inbox for the next attempt, after every other file of the batch was processed."""


def _fingerprint_complete(path: Path, busy: set[Path]) -> tuple[str, FileSignature]:
    """The file's SHA-256 and signature, or ``StillBeingWritten``."""
    if path in busy:
        raise StillBeingWritten(f"{path.name} est encore ouvert en écriture")
    seen = signature_of(path)
    sha256 = sha256_of(path)
    ensure_unchanged(path, seen)
    return sha256, seen


@contextmanager
def _isolated(failed: list[str], partner: Partner, path: Path, paths: DataPaths,
              territory: Territory) -> Iterator[None]:
    """An unexpected error on one file is logged and that file left in its inbox (or, after
    repeated failures, quarantined by the safety net); the rest of the batch goes on. A file
    still being written is no error: it waits for the next scan. (Nor is a bad file: it gets
    its report.)"""
    try:
        yield
    except StillBeingWritten as exc:
        log.info("%s/%s : %s ; laissé dans le dossier de dépôt jusqu'au prochain passage",
                 partner.id, path.name, exc)
    except Exception as exc:
        log.exception("%s/%s : erreur inattendue, fichier laissé dans le dossier de dépôt",
                      partner.id, path.name)
        failed.append(safety_net.note_failure(partner, path, exc, paths, territory))


def process_file(partner_id: str, file_path: str, territory: Territory | None = None,
                 paths: DataPaths | None = None) -> Outcome:
    """One dropped file (see ``process_files``); ``FileGone`` if it is no longer there."""
    territory = territory or load_territory()
    if not Path(file_path).is_file():
        raise FileGone(_gone(territory.partner(partner_id), Path(file_path)))
    outcomes = process_files([(partner_id, file_path)], territory, paths)
    if not outcomes:  # it went between the check and the read
        raise FileGone(_gone(territory.partner(partner_id), Path(file_path)))
    return outcomes[0]


def _gone(partner: Partner, path: Path) -> str:
    return (f"{partner.id}/{path.name} n'est plus dans le dossier de dépôt (retiré par le "
            "partenaire, ou déjà traité par une autre exécution)")


def _record(item: _Pending, territory: Territory, paths: DataPaths) -> Outcome:
    """The file's verdict: ledger entry and accepted rows in one transaction, then its report
    beside it and the file filed away."""
    partner, path, sha256, exam = item.partner, item.path, item.sha256, item.exam
    dataset, frame, problems = exam.dataset, exam.frame, exam.problems
    # A problem may stand for several lines (the undetailed rest of a rule, large files).
    errors = sum(p.count for p in problems if p.severity == "erreur")
    warnings = sum(p.count for p in problems) - errors
    status = (ledger.STATUS_REJECTED if errors else
              ledger.STATUS_ACCEPTED_WITH_WARNINGS if warnings else ledger.STATUS_ACCEPTED)
    rows_total = exam.rows
    local_time = item.received_at.astimezone(ZoneInfo(territory.timezone))
    report = render_report(
        territory_name=territory.name, partner_name=partner.name, original_name=path.name,
        dataset_title=CONTRACTS[dataset].title if dataset in CONTRACTS else dataset,
        received_at=local_time, sha256=sha256, status=status, rows_total=rows_total,
        problems=problems, unknown_columns=exam.unknown_columns)
    stored = _stored_path(paths, partner, sha256, path.name, status != ledger.STATUS_REJECTED)
    entry = ledger.LedgerEntry(
        partner=partner.id, sha256=sha256, dataset=dataset, original_name=path.name,
        received_at=item.received_at.isoformat(timespec="microseconds"), status=status,
        rows_total=rows_total, rows_loaded=0, errors=errors, warnings=warnings,
        stored_path=str(stored.relative_to(paths.root)), report=report)

    with stage("load", file=path.name, rows=0) as measured, \
            warehouse.engine().begin() as connection:
        if entry.accepted and exam.large is not None:
            entry.rows_loaded = exam.large.load(connection, sha256, entry.received_at)
        elif entry.accepted and frame is not None:
            entry.rows_loaded = warehouse.supersede_and_insert(
                connection, contract_for(dataset), partner.id, sha256, entry.received_at, frame)
        ledger.insert(connection, entry)
        measured["rows"] = entry.rows_loaded
        ensure_unchanged(path, item.signature)  # rolls back if it is still being written
        fault_point("ingest-before-commit")
    fault_point("ingest-after-commit")
    if exam.large is not None:
        exam.large.close()
    _finish(entry, partner, path, paths, item.signature)
    log.info("%s/%s: %s (%d lignes, %d erreurs)", partner.id, path.name, status,
             entry.rows_loaded, errors)
    return Outcome(partner.id, path.name, sha256, dataset, status, entry.rows_loaded, errors,
                   warnings, duplicate=False)


def _refile_known(known: ledger.LedgerEntry, partner: Partner, path: Path, paths: DataPaths,
                  territory: Territory) -> Outcome:
    """The same bytes were already processed (a re-drop, or a crash before filing away)."""
    received = datetime.fromisoformat(known.received_at).astimezone(ZoneInfo(territory.timezone))
    note = (f"\nCe fichier est identique au fichier « {known.original_name} » reçu le "
            f"{received:%d/%m/%Y à %H:%M} : il n'a rien changé.\n")
    report = known.report if path.name == known.original_name else known.report + note
    write_atomically(report_path(path.parent, path.name), report)
    _file_away(path, paths.root / known.stored_path)
    return Outcome(partner.id, path.name, known.sha256, known.dataset, known.status, 0,
                   known.errors, known.warnings, duplicate=True)


def reprocess_quarantined(partner_id: str, sha256_prefix: str,
                          paths: DataPaths | None = None) -> Path:
    """Put a rejected file back in its partner's inbox so the next scan examines it again
    (after the territory configuration or a rule changed). Its rejected ledger entry, which
    carries no warehouse rows, is removed; the old report stays beside the quarantined file."""
    paths = paths or data_paths()
    matches = [e for e in ledger.entries() if e.partner == partner_id
               and e.sha256.startswith(sha256_prefix) and e.status == ledger.STATUS_REJECTED]
    if len(matches) != 1:
        raise LookupError(f"{len(matches)} fichiers refusés correspondent à {sha256_prefix!r} "
                          f"pour {partner_id}")
    entry = matches[0]
    stored = paths.root / entry.stored_path
    write_atomically(report_path(stored.parent, stored.name), entry.report)
    target = paths.inbox / partner_id / entry.original_name
    shutil.copy2(stored, target)
    with warehouse.engine().begin() as connection:
        ledger.delete(connection, entry.partner, entry.sha256)
    return target
