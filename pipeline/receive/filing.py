"""A received file's first screen: its size, its dataset told from its name; and the shape of
its outcome (``pipeline.ingest`` decides it, the DAG reports it)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pipeline import settings
from pipeline.config import Partner
from pipeline.contracts.datasets import CONTRACTS
from pipeline.contracts.model import normalize_header

JSON_SUFFIXES = (".json", ".geojson")
SPLIT_ADVICE = "Découpez le fichier en plusieurs fichiers plus petits (par année, par exemple)."


def oversize_reason(path: Path) -> str | None:
    return oversize_reason_for(path.name, path.stat().st_size)


def oversize_reason_for(name: str, size: int, unread: bool = False) -> str | None:
    """Why a file of that name and size is refused. ``unread``: an object judged before it is
    copied, so a JSON file's own limit (otherwise applied by its reader) applies here too."""
    size_mb = size / 1_000_000
    suffix = Path(name).suffix.lower()
    kind, setting = (("Excel", "INCLUSION_MAX_XLSX_MB") if suffix in (".xlsx", ".xlsm") else
                     ("JSON", "INCLUSION_MAX_JSON_MB") if unread and suffix in JSON_SUFFIXES
                     else ("CSV", "INCLUSION_MAX_CSV_MB"))
    limit = settings.get(setting)
    if size_mb > limit:
        return (f"Le fichier est trop gros ({size_mb:.0f} Mo ; au plus {limit:.0f} Mo pour un "
                f"fichier {kind}).")
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
            return None, not_allowed(named[0])
    if len(partner.datasets) == 1:
        return partner.datasets[0], None
    return None, None


def not_allowed(dataset: str) -> str:
    return (f"Ce fichier contient des données « {CONTRACTS[dataset].title} », que votre "
            "convention ne prévoit pas que vous envoyiez.")
