"""A batch of dropped files wherever the storage areas are: the entry point of ``traiter_lot``.

With every area in the data folder (the default) this is ``process_files`` and nothing else.
With the inboxes on an object store (``INCLUSION_INBOX_URL``), workers share nothing but the
store and the database; each has its own data folder as a working folder, where the batch's
objects are copied, under the local inbox, so that the processing runs unchanged:

1. each object is copied from ``<inbox>/<partner folder>/<name>`` to
   ``<data>/inbox/<partner folder>/<name>`` if it is still the version listed (same ETag; its
   ``LastModified`` becomes the copy's modification time, hence the reception time); a replaced
   object is left for the next run, which lists the new version;
2. ``process_files`` fingerprints, checks, loads (ledger and rows in one transaction), writes
   the report beside the copy and files the copy away into ``<data>/archive`` or
   ``<data>/quarantine``;
3. the filed-away copies go up to the archive and quarantine areas (``INCLUSION_ARCHIVE_URL``,
   ``INCLUSION_QUARANTINE_URL``) under the same relative names as in the data folder, the report
   goes beside the object in the inbox area, and last the object is deleted from the inbox if
   its ETag is still the one processed (a new version dropped meanwhile stays for the next run);
4. the local copies are removed.

A crash at any point loses nothing: until its commit a file only exists in the inbox; after
it, the object is still in the inbox until everything was uploaded, and the next run finds its
fingerprint in the ledger, so it is only filed away again with its stored report
(``refile_known``) and counted once. An archive or quarantine on an object store with a local
inbox works the same way, from step 3.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from pipeline import storage
from pipeline.config import DataPaths, Partner, Territory, data_paths, load_territory
from pipeline.faults import fault_point
from pipeline.files import fit_name, report_name
from pipeline.ingest.flow import process_files
from pipeline.receive.filing import Outcome
from pipeline.report.reports import report_path

log = logging.getLogger(__name__)
FILED_AREAS = ("archive", "quarantine")


@dataclass(frozen=True)
class Copied:
    """An object of the batch and its copy in the working folder."""
    partner: Partner
    key: str  # under the inbox area: <partner folder>/<name>
    etag: str
    local: Path

    @property
    def name(self) -> str:
        return self.key.split("/", 1)[1]


def process_batch(candidates: list[dict], territory: Territory | None = None,
                  paths: DataPaths | None = None) -> list[Outcome]:
    """A batch of candidates as ``pipeline.receive.inbox.plan_batches`` lists them (partner,
    path or key, size, ETag): processed in the working folder, the results filed into their
    areas."""
    territory = territory or load_territory()
    paths = paths or data_paths()
    if storage.is_local("inbox"):
        try:
            return process_files([(c["partner"], c["path"]) for c in candidates],
                                 territory, paths)
        finally:
            file_into_areas({c["partner"] for c in candidates}, paths)
    copied = [_copy_in(territory.partner(c["partner"]), c["path"], c.get("etag", ""), paths)
              for c in candidates]
    present = [c for c in copied if c is not None]
    try:
        return process_files([(c.partner.id, str(c.local)) for c in present], territory, paths)
    finally:
        file_into_areas({c.partner.id for c in present}, paths)
        for copy in present:
            _conclude(copy)


def _copy_in(partner: Partner, key: str, etag: str, paths: DataPaths) -> Copied | None:
    """The object copied into the working folder; None when it was replaced since the listing
    (the next scan lists the new version). An object gone is passed on without a copy:
    ``process_files`` tells a file quarantined by the safety net from one already taken."""
    from pipeline.storage import objects

    local = paths.partner_inbox(partner) / fit_name(key.split("/", 1)[1])
    _remove_local(local)  # a copy left by a killed attempt
    if objects.download(storage.area("inbox") / key, local, etag) is not None:
        return Copied(partner, key, etag, local)
    if objects.stat_object(storage.area("inbox") / key) is None:
        return Copied(partner, key, etag, local)
    log.info("%s : remplacé depuis la liste des dépôts, traité au prochain passage", key)
    return None


def _conclude(copy: Copied) -> None:
    """After ``process_files`` (and the upload of the filed-away copies): a processed copy's
    report beside its object, then the object out of the inbox if unchanged. A copy still
    there was not processed (an unexpected error): its object stays for the retry."""
    from pipeline.storage import objects

    report = report_path(copy.local.parent, copy.local.name)
    processed = not copy.local.exists() and report.exists()
    if processed:
        folder = storage.area("inbox") / copy.key.split("/", 1)[0]
        objects.write_text(folder / report_name(copy.name), report.read_text(encoding="utf-8"))
        fault_point("inbox-before-delete")
        objects.delete_if_unchanged(storage.area("inbox") / copy.key, copy.etag)
    _remove_local(copy.local)


def _remove_local(local: Path) -> None:
    local.unlink(missing_ok=True)
    report_path(local.parent, local.name).unlink(missing_ok=True)


def file_into_areas(partners: set[str], paths: DataPaths | None = None) -> None:
    """Upload the partners' filed-away files from the working folder's ``archive/`` and
    ``quarantine/`` to those areas when they are elsewhere, under the same relative names
    (``<partner>/<fingerprint>__<name>``), then remove the local copies. Nothing to do when an
    area is the data folder's own (the default)."""
    from pipeline.storage import objects

    paths = paths or data_paths()
    for area in FILED_AREAS:
        if storage.in_data_folder(area):
            continue
        for partner in sorted(partners):
            folder = paths.root / area / partner
            for local in sorted(folder.glob("*")) if folder.is_dir() else []:
                try:
                    objects.upload(local, storage.area(area) / partner / local.name)
                except FileNotFoundError:
                    if local.exists():
                        raise
                    continue  # uploaded meanwhile by another task of this worker
                local.unlink(missing_ok=True)
