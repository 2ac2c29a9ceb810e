"""Processing a batch of dropped files: fingerprint, screen, validate, record, in that order.

Files come in batches (one Airflow task each): each file is screened on its own
(``pipeline.ingest.screen``), the batch is validated in one Great Expectations run per dataset,
then each file is cross-checked against the warehouse (``pipeline.ingest.validate``), loaded and
reported on its own (``pipeline.ingest.record``), in order.

Safe to run twice on the same files and safe to kill at any point:
- the ledger row and the warehouse rows are committed in one transaction;
- the file is moved out of the inbox only after that commit, and a file whose fingerprint is
  already in the ledger is simply filed away again, with its stored report.

A file still being written (``pipeline.receive.filestate``: held open for writing, or its size,
time or inode changed between the fingerprint, the commit and the move) is left in its inbox with
nothing committed: the next scan takes the complete file. A file that hits an unexpected error
stays in its inbox for the task's retry; after repeated failures of the same bytes it is
quarantined with a report (``pipeline.ingest.safety_net``), and so is a file whose processing
was killed again and again (each step of a file's own work, and the batch's validation, leaves
a mark while it runs, which only a kill leaves behind). Names written into the archive, the
quarantine and beside the file fit the file system's limit (``pipeline.files.fit_name``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from pipeline.config import DataPaths, Partner, Territory, data_paths, load_territory
from pipeline.ingest import safety_net, withdrawals
from pipeline.ingest.record import Received, record, refile_known
from pipeline.ingest.screen import Examination, screen
from pipeline.ingest.validate import cross_check, validate_screened
from pipeline.load import ledger
from pipeline.receive.filestate import (StillBeingWritten, fingerprint_complete,
                                        paths_open_for_writing)
from pipeline.receive.filing import Outcome

log = logging.getLogger(__name__)


class BatchIncomplete(Exception):
    """Some files of a batch hit an unexpected error (a bug, a full disk): they stay in the
    inbox for the next attempt, after every other file of the batch was processed."""


@dataclass
class Screened:
    """A new file, screened, waiting for its batch's validation and then its own load."""
    file: Received
    exam: Examination


@dataclass
class Batch:
    """Where a batch's files stand: outcomes by their place in the batch, the files screened
    and waiting, the files that hit an unexpected error (named for the task's failure)."""
    territory: Territory
    paths: DataPaths
    outcomes: dict[int, Outcome] = field(default_factory=dict)
    waiting: dict[int, Screened] = field(default_factory=dict)
    failed: list[str] = field(default_factory=list)


def process_files(files: list[tuple[str, str]], territory: Territory | None = None,
                  paths: DataPaths | None = None) -> list[Outcome]:
    """A batch of dropped files (partner id, path): each screened, all validated together
    (one GX run per dataset), then each cross-checked, loaded in its own transaction and
    reported, in the given order. A listed file no longer there is left out of the outcomes."""
    batch = Batch(territory or load_territory(), paths or data_paths())
    busy = paths_open_for_writing([Path(file_path) for _, file_path in files])
    for number, (partner_id, file_path) in enumerate(files):
        receive(batch, number, batch.territory.partner(partner_id), Path(file_path), busy)
    with safety_net.attempt(batch.paths, [(s.file.partner, s.file.path, s.file.sha256)
                                           for s in batch.waiting.values()], "contrôle du lot"):
        validate_screened([(s.exam, s.file.partner) for s in batch.waiting.values()],
                          batch.territory)
    for number, screened in batch.waiting.items():
        file = screened.file
        with isolated(batch, file.partner, file.path), \
                safety_net.attempt(batch.paths, [(file.partner, file.path, file.sha256)],
                                   "chargement"):
            batch.outcomes[number] = conclude(screened, batch)
    if batch.failed:  # the task fails (alert, retry); the others are done, not to be redone
        raise BatchIncomplete(f"{len(batch.failed)} fichier(s) non traité(s) à cause d'une "
                              "panne, laissé(s) dans le dossier de dépôt ou mis en quarantaine : "
                              f"{', '.join(batch.failed)}")
    return [batch.outcomes[number] for number in sorted(batch.outcomes)]


def receive(batch: Batch, number: int, partner: Partner, path: Path, busy: set[Path]) -> None:
    """Fingerprint and screen one file of the batch; bytes already in the ledger are only
    filed away again."""
    if not path.is_file():
        _note_gone(batch, partner, path)
        return
    with isolated(batch, partner, path):
        sha256, signature = fingerprint_complete(path, busy)
        known = ledger.find(partner.id, sha256)
        if known:
            batch.outcomes[number] = refile_known(known, partner, path, batch.paths,
                                                  batch.territory)
            return
        stopped = safety_net.quarantine_if_interrupted(partner, path, sha256, batch.paths,
                                                       batch.territory)
        if stopped:  # killed again and again: not read once more
            batch.failed.append(stopped)
            return
        with safety_net.attempt(batch.paths, [(partner, path, sha256)], "lecture"):
            file = Received(partner, path, sha256,
                            datetime.fromtimestamp(path.stat().st_mtime, UTC), signature)
            exam = (Examination("retrait") if withdrawals.is_withdrawal(path)  # read at its turn
                    else screen(path, partner, batch.territory))
            batch.waiting[number] = Screened(file, exam)


def conclude(screened: Screened, batch: Batch) -> Outcome:
    """A validated file's cross-checks, verdict, load and report."""
    file, exam = screened.file, screened.exam
    known = ledger.find(file.partner.id, file.sha256)  # the same bytes twice in a batch
    if known:
        return refile_known(known, file.partner, file.path, batch.paths, batch.territory)
    if withdrawals.is_withdrawal(file.path):  # keys to withdraw, not rows
        return withdrawals.record(file, batch.territory, batch.paths)
    cross_check(exam, file.partner, file.path)
    return record(file, exam, batch.territory, batch.paths)


def _note_gone(batch: Batch, partner: Partner, path: Path) -> None:
    """A listed file that is no longer there: quarantined by the safety net at the previous
    attempt (the retry must still fail, for the alert), or taken by someone else (nothing to
    do)."""
    if safety_net.quarantined_after_failures(batch.paths, partner, path):
        batch.failed.append(f"{partner.id}/{path.name} (mis en quarantaine après des pannes ou "
                            "des interruptions)")
    else:
        log.warning("%s/%s n'est plus dans le dossier de dépôt (retiré par le partenaire, ou "
                    "déjà traité par une autre exécution)", partner.id, path.name)


@contextmanager
def isolated(batch: Batch, partner: Partner, path: Path) -> Iterator[None]:
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
        batch.failed.append(safety_net.note_failure(partner, path, exc, batch.paths,
                                                    batch.territory))
