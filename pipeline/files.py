"""The files the pipeline writes: names that fit the file system, fingerprints, and writes
that never leave a half-written file or write through a hard link.

Every name the pipeline writes (reports, archived and quarantined copies) fits the file
system's 255-byte limit per name: ``fit_name`` shortens the middle of a long name, keeps its
extension and adds a short fingerprint of the full name so that shortened names stay distinct.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

REPORT_SUFFIX = ".rapport.txt"
# Linux (ext4, XFS, tmpfs...) allows 255 bytes per name component. Names written here keep 5
# bytes spare for the temporary name of an atomic write (".<name>.tmp").
NAME_MAX_BYTES = 250
ELLIPSIS = "…"


def _name_bytes(text: str) -> int:
    return len(os.fsencode(text))


def _head(text: str, budget: int) -> str:
    """The longest start of ``text`` within ``budget`` bytes, cut between characters."""
    kept = 0
    for index, char in enumerate(text):
        kept += _name_bytes(char)
        if kept > budget:
            return text[:index]
    return text


def _tail(text: str, budget: int) -> str:
    return _head(text[::-1], budget)[::-1]


def fit_name(name: str, limit: int = NAME_MAX_BYTES) -> str:
    """``name`` itself when it fits in ``limit`` bytes; otherwise its start and end around
    "…" and 8 hexadecimal digits of the full name's SHA-256, then its extension:
    ``Relevé des ateliers … 2026~3f2a9c1b.csv``. Deterministic, so a re-run writes the same
    name; the fingerprint keeps two long names that differ only in the middle apart."""
    if _name_bytes(name) <= limit:
        return name
    stem, extension = os.path.splitext(name)
    if _name_bytes(extension) > 16:  # not an extension, just a dot in a long name
        stem, extension = name, ""
    tag = "~" + hashlib.sha256(os.fsencode(name)).hexdigest()[:8]
    room = limit - _name_bytes(extension) - _name_bytes(tag) - _name_bytes(ELLIPSIS)
    head = _head(stem, room * 2 // 3)
    tail = _tail(stem[len(head):], room - _name_bytes(head))
    return f"{head}{ELLIPSIS}{tail}{tag}{extension}"


def report_name(original_name: str) -> str:
    """The name of the report written beside a dropped file, within the name limit."""
    return fit_name(original_name, NAME_MAX_BYTES - len(REPORT_SUFFIX)) + REPORT_SUFFIX


def stored_name(sha256: str, original_name: str) -> str:
    """The name of a file in ``archive/`` or ``quarantine/``: fingerprint prefix, then the
    partner's name (shortened in the middle when too long)."""
    return fit_name(f"{sha256[:16]}__{original_name}")


def write_atomically(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def drop_link(path: str | Path) -> None:
    """Remove ``path`` if it exists, so that the next write creates a new file instead of
    writing through a hard link shared with other builds."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def replace_file(path: str | Path, data: bytes) -> None:
    """Write ``data`` to a new file and rename it over ``path``: whatever ``path`` was (a hard
    link to the live build included), only this build's name changes."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        temporary.write_bytes(data)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _file_away(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists():
        source.unlink(missing_ok=True)
    else:
        shutil.move(source, target)
