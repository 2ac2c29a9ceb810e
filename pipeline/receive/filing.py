"""A received file's fate: its size screened, its dataset told from its name, its outcome, and
once its verdict is committed, its report written beside it and the file filed away."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from pipeline import settings
from pipeline.config import DataPaths, Partner
from pipeline.contracts.datasets import CONTRACTS
from pipeline.files import _file_away, stored_name, write_atomically
from pipeline.load import ledger
from pipeline.read.reading import normalize_header
from pipeline.receive import safety_net
from pipeline.receive.filestate import FileSignature, unchanged
from pipeline.report.reports import report_path

log = logging.getLogger(__name__)

SPLIT_ADVICE = "Découpez le fichier en plusieurs fichiers plus petits (par année, par exemple)."


def oversize_reason(path: Path) -> str | None:
    size_mb = path.stat().st_size / 1_000_000
    is_xlsx = path.suffix.lower() in (".xlsx", ".xlsm")
    limit = settings.get("INCLUSION_MAX_XLSX_MB" if is_xlsx else "INCLUSION_MAX_CSV_MB")
    if size_mb > limit:
        return (f"Le fichier est trop gros ({size_mb:.0f} Mo ; au plus {limit:.0f} Mo pour un "
                f"fichier {'Excel' if is_xlsx else 'CSV'}).")
    return None


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


def detect_dataset(partner: Partner, path: Path) -> tuple[str | None, str | None]:
    """The dataset a file holds, from its name or the partner's only dataset; or a French
    reason why it cannot be accepted (a dataset the partner may not send)."""
    tokens = set(normalize_header(path.stem).split("_"))
    named = [d for d, c in CONTRACTS.items() if tokens & set(c.file_words)]
    if len(named) == 1:
        if named[0] in partner.datasets:
            return named[0], None
        if len(partner.datasets) != 1:
            return None, _not_allowed(named[0])
    if len(partner.datasets) == 1:
        return partner.datasets[0], None
    return None, None


def _not_allowed(dataset: str) -> str:
    return (f"Ce fichier contient des données « {CONTRACTS[dataset].title} », que votre "
            "convention ne prévoit pas que vous envoyiez.")


def _stored_path(paths: DataPaths, partner: Partner, sha256: str, name: str, accepted: bool) -> Path:
    base = paths.archive if accepted else paths.quarantine
    return base / partner.id / stored_name(sha256, name)


def _finish(entry: ledger.LedgerEntry, partner: Partner, path: Path, paths: DataPaths,
            seen: FileSignature | None = None) -> None:
    """After the commit: the report beside the file, then the file out of the inbox. Not
    moved if it changed since it was read: a writer still at work would write on into the
    archived copy; left in place, its complete bytes are a new file for the next scan."""
    write_atomically(report_path(path.parent, path.name), entry.report)
    safety_net.forget(paths, partner, entry.sha256)
    if seen is not None and not unchanged(path, seen):
        log.warning("%s/%s : modifié après son enregistrement, laissé dans le dossier de "
                    "dépôt (il sera traité à nouveau)", partner.id, path.name)
        return
    _file_away(path, paths.root / entry.stored_path)
