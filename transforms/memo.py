"""Results that one dataset alone determines, kept from one build to the next.

A new workshop file changes nothing that the 2,000,000 passes give: their yearly tables and
their targets' progress are read back instead of reading and recomputing the pass table (about
9 s of a national build). An entry's key holds the dataset's version (its accepted files in the
ledger), the code that computes it, and the territory's communes and threshold: after any change
to one of them the entry is simply not found, and the value is computed again.

Entries are pickle files written by this pipeline into its own data folder, never partner input.
Those a build did not use are removed at its end, so the folder holds one build's worth.
"""

from __future__ import annotations

import hashlib
import os
import pickle
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TypeVar

from pipeline.config import REPO_ROOT

T = TypeVar("T")
# The code a memorised value comes from: a change to any of these computes every value again
# (the warehouse's queries and schema revisions too: tables and counts are read through them;
# pages/venues.py turns the venue table into the directory's venue views).
COMPUTING_SOURCES = ("transforms/results", "transforms/catalogue.py",
                     "transforms/suppression.py", "transforms/memo.py",
                     "pipeline/contracts", "pipeline/load/warehouse.py",
                     "pipeline/load/migrations", "pages/venues.py")


def _sha(text: str | bytes) -> str:
    data = text.encode("utf-8") if isinstance(text, str) else text
    return hashlib.sha1(data, usedforsecurity=False).hexdigest()


def code_version() -> str:
    files = [file for name in COMPUTING_SOURCES for file in (
        sorted((REPO_ROOT / name).rglob("*.py")) if (REPO_ROOT / name).is_dir()
        else [REPO_ROOT / name])]
    return _sha(b"".join(file.read_bytes() for file in files))


def dataset_versions(entries: Iterable) -> dict[str, str]:
    """Per dataset, a fingerprint of its accepted files: the warehouse's rows of a dataset only
    change when a file of that dataset is accepted (rows are never deleted)."""
    from pipeline.load.ledger import STATUS_REJECTED

    accepted: dict[str, list[str]] = {}
    for entry in entries:
        if entry.status != STATUS_REJECTED:
            accepted.setdefault(entry.dataset, []).append(entry.sha256)
    return {dataset: _sha(",".join(sorted(shas))) for dataset, shas in accepted.items()}


class ResultsMemo:
    """``get(key, compute)``: the value stored under ``key`` (a tuple) by an earlier build, or
    ``compute()`` (then stored). Without a folder it always computes."""

    def __init__(self, folder: Path | None, context: str = "") -> None:
        self.folder = folder
        self.salt = _sha(code_version() + context) if folder is not None else ""
        self.used: set[str] = set()
        self.hits = 0

    def get(self, key: tuple, compute: Callable[[], T]) -> T:
        if self.folder is None:
            return compute()
        path = self.folder / f"{_sha(self.salt + repr(key))}.pickle"
        self.used.add(path.name)
        try:
            with path.open("rb") as handle:
                value = pickle.load(handle)
            self.hits += 1
            return value
        except (OSError, pickle.UnpicklingError, EOFError):
            pass  # not there yet, or torn by a crash: compute it again
        value = compute()
        self.folder.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(f".{os.getpid()}.partial")
        with partial.open("wb") as handle:
            pickle.dump(value, handle, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(partial, path)
        return value

    def prune(self) -> None:
        """Remove the entries this build did not use."""
        if self.folder is None or not self.folder.is_dir():
            return
        for path in self.folder.glob("*.pickle"):  # not another build's ``.partial``
            if path.name not in self.used:
                path.unlink(missing_ok=True)
