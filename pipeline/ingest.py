"""Processing one dropped file end to end: fingerprint, read, validate, load, report, file away.

Safe to run twice on the same file and safe to kill at any point:
- the ledger row and the warehouse rows are committed in one transaction;
- the file is moved out of the inbox only after that commit, and a file whose fingerprint is
  already in the ledger is simply filed away again, with its stored report.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from pipeline import ledger, warehouse
from pipeline.config import DataPaths, Partner, Territory, data_paths, load_territory
from pipeline.contracts import CONTRACTS, contract_for
from pipeline.reading import UnreadableFile, normalize_header, read_partner_file
from pipeline.reports import render_report, report_path, write_atomically
from pipeline.validation import Problem, validate

log = logging.getLogger(__name__)


@dataclass
class Outcome:
    partner: str
    file: str
    sha256: str
    dataset: str
    status: str
    rows_loaded: int
    errors: int
    warnings: int
    duplicate: bool

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def detect_dataset(partner: Partner, path: Path) -> str | None:
    if len(partner.datasets) == 1:
        return partner.datasets[0]
    name = normalize_header(path.stem)
    return next((d for d in partner.datasets if d in name), None)


def _stored_path(paths: DataPaths, partner: Partner, sha256: str, name: str, accepted: bool) -> Path:
    base = paths.archive if accepted else paths.quarantine
    return base / partner.id / f"{sha256[:16]}__{name}"


def _file_away(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists():
        source.unlink(missing_ok=True)
    else:
        shutil.move(source, target)


def process_file(partner_id: str, file_path: str, territory: Territory | None = None,
                 paths: DataPaths | None = None) -> Outcome:
    territory = territory or load_territory()
    paths = paths or data_paths()
    partner = territory.partner(partner_id)
    path = Path(file_path)
    sha256 = sha256_of(path)
    known = ledger.find(partner.id, sha256)
    if known:
        return _refile_known(known, partner, path, paths, territory)

    received_at = datetime.fromtimestamp(path.stat().st_mtime, UTC)
    dataset = detect_dataset(partner, path)
    problems: list[Problem] = []
    unknown_columns: list[str] = []
    frame = None
    if dataset is None:
        problems.append(Problem(None, "", "", "Le type de données du fichier n'a pas été reconnu.",
                                "Mettez le nom des données dans le nom du fichier, par exemple "
                                + " ou ".join(f"« {d}_2026.csv »" for d in partner.datasets) + ".",
                                "erreur"))
        dataset = partner.datasets[0] if partner.datasets else "inconnu"
    else:
        contract = contract_for(dataset)
        try:
            read = read_partner_file(path, contract, {
                normalize_header(c.name): c.insee for c in territory.communes})
            frame, unknown_columns = read.frame, read.unknown_columns
            problems = validate(read, contract, territory.partner_communes(partner))
        except UnreadableFile as exc:
            problems.append(Problem(None, "", "", str(exc), "Déposez à nouveau le fichier une "
                                    "fois corrigé.", "erreur"))
    errors = sum(p.severity == "erreur" for p in problems)
    warnings = len(problems) - errors
    status = (ledger.STATUS_REJECTED if errors else
              ledger.STATUS_ACCEPTED_WITH_WARNINGS if warnings else ledger.STATUS_ACCEPTED)
    rows_total = 0 if frame is None else len(frame)
    local_time = received_at.astimezone(ZoneInfo(territory.timezone))
    report = render_report(
        territory_name=territory.name, partner_name=partner.name, original_name=path.name,
        dataset_title=CONTRACTS[dataset].title if dataset in CONTRACTS else dataset,
        received_at=local_time, sha256=sha256, status=status, rows_total=rows_total,
        problems=problems, unknown_columns=unknown_columns)
    stored = _stored_path(paths, partner, sha256, path.name, status != ledger.STATUS_REJECTED)
    entry = ledger.LedgerEntry(
        partner=partner.id, sha256=sha256, dataset=dataset, original_name=path.name,
        received_at=received_at.isoformat(timespec="seconds"), status=status,
        rows_total=rows_total, rows_loaded=0, errors=errors, warnings=warnings,
        stored_path=str(stored.relative_to(paths.root)), report=report)

    with warehouse.engine().begin() as connection:
        if entry.accepted and frame is not None:
            entry.rows_loaded = warehouse.supersede_and_insert(
                connection, contract_for(dataset), partner.id, sha256, frame)
        ledger.insert(connection, entry)

    _finish(entry, partner, path, paths)
    log.info("%s/%s: %s (%d lignes, %d erreurs)", partner.id, path.name, status,
             entry.rows_loaded, errors)
    return Outcome(partner.id, path.name, sha256, dataset, status, entry.rows_loaded, errors,
                   warnings, duplicate=False)


def _finish(entry: ledger.LedgerEntry, partner: Partner, path: Path, paths: DataPaths) -> None:
    """After the commit: the report beside the file, then the file out of the inbox."""
    write_atomically(report_path(path.parent, path.name), entry.report)
    _file_away(path, paths.root / entry.stored_path)


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

