"""Scanning the partners' inbox folders for new files.

Only regular files directly inside a partner's folder are candidates. Reports written back by the
pipeline (``*.rapport.txt``), hidden files and names that spreadsheets and browsers use while a
file is still being written are left alone.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from pathlib import Path

from pipeline.config import DataPaths, Territory, data_paths, load_territory

REPORT_SUFFIX = ".rapport.txt"
TEMPORARY_MARKERS = (".part", ".tmp", ".crdownload", ".partial")


@dataclass(frozen=True)
class Candidate:
    partner: str
    path: str
    size: int

    def as_dict(self) -> dict:
        return asdict(self)


def is_ignored_name(name: str) -> bool:
    lower = name.lower()
    return (lower.endswith(REPORT_SUFFIX) or name.startswith((".", "~$"))
            or lower.endswith(TEMPORARY_MARKERS))


def scan_inboxes(territory: Territory | None = None,
                 paths: DataPaths | None = None) -> list[Candidate]:
    territory = territory or load_territory()
    paths = paths or data_paths()
    found: list[Candidate] = []
    for partner in territory.partners:
        folder = paths.partner_inbox(partner)
        folder.mkdir(parents=True, exist_ok=True)
        with os.scandir(folder) as entries:
            for entry in entries:
                if is_ignored_name(entry.name) or not entry.is_file(follow_symlinks=False):
                    continue
                found.append(Candidate(partner.id, str(Path(entry.path)),
                                       entry.stat(follow_symlinks=False).st_size))
    return sorted(found, key=lambda c: (c.partner, c.path))
