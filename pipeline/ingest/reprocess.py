"""A steward's second look at a refused file (``python -m pipeline.cli``), after the territory
configuration or a rule changed, or after the bug that made the safety net quarantine it was
fixed.

With the quarantine area on an object store (``INCLUSION_QUARANTINE_URL``), the quarantined
object is copied back into the partner's folder of the inbox area (by the store itself when the
inbox is on it too); its reception time is then the copy's ``LastModified``.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

from pipeline import storage
from pipeline.config import DataPaths, data_paths, load_territory
from pipeline.files import REPORT_SUFFIX, report_name, sha256_of, write_atomically
from pipeline.ingest import safety_net
from pipeline.load import ledger, warehouse
from pipeline.report.reports import report_path


def reprocess_quarantined(partner_id: str, sha256_prefix: str,
                          paths: DataPaths | None = None) -> Path | str:
    """Put a rejected file back in its partner's inbox so the next scan examines it again.
    Its rejected ledger entry, which carries no warehouse rows, is removed (otherwise the
    same bytes would only be filed away again); the old report stays beside the quarantined
    file."""
    paths = paths or data_paths()
    matches = [e for e in ledger.entries() if e.partner == partner_id
               and e.sha256.startswith(sha256_prefix) and e.status == ledger.STATUS_REJECTED]
    if not matches:
        return _reprocess_after_failures(partner_id, sha256_prefix, paths)
    if len(matches) != 1:
        raise LookupError(f"{len(matches)} fichiers refusés correspondent à {sha256_prefix!r} "
                          f"pour {partner_id}")
    entry = matches[0]
    if not storage.in_data_folder("quarantine"):
        return _put_back_from_store(entry, paths)
    stored = paths.root / entry.stored_path
    write_atomically(report_path(stored.parent, stored.name), entry.report)
    target = paths.inbox / partner_id / entry.original_name
    shutil.copy2(stored, target)
    with warehouse.engine().begin() as connection:
        ledger.delete(connection, entry.partner, entry.sha256)
    return target


def _reprocess_after_failures(partner_id: str, sha256_prefix: str, paths: DataPaths
                              ) -> Path | str:
    """A file the safety net quarantined after repeated internal failures: it has no ledger
    entry (nothing was committed), only its quarantined copy, named after its fingerprint.
    Its failure count is reset, so the next scan gives it fresh attempts."""
    if not storage.in_data_folder("quarantine"):
        return _put_back_after_failures_from_store(partner_id, sha256_prefix, paths)
    folder = paths.quarantine / partner_id
    listed = [p for p in folder.glob(f"{sha256_prefix[:16]}*__*") if p.is_file()]
    reports = {report_path(folder, p.name).name for p in listed}
    found = [p for p in listed if p.name not in reports]
    if len(found) != 1:
        raise LookupError(f"{len(found)} fichiers refusés ou mis en quarantaine correspondent à "
                          f"{sha256_prefix!r} pour {partner_id}")
    stored = found[0]
    partner = load_territory().partner(partner_id)
    target = paths.partner_inbox(partner) / stored.name.split("__", 1)[1]
    safety_net.forget(paths, partner, sha256_of(stored))
    shutil.copy2(stored, target)
    return target


def _put_back_from_store(entry: ledger.LedgerEntry, paths: DataPaths) -> str:
    """A rejected file whose quarantined copy is an object: its report rewritten beside it,
    the object copied into the inbox area, its ledger entry removed."""
    from pipeline.storage import objects

    partner = load_territory().partner(entry.partner)
    relative = entry.stored_path.split("/", 1)[1]  # quarantine/<partner>/<fingerprint>__<name>
    stored = storage.area("quarantine") / relative
    if objects.stat_object(stored) is None:
        raise LookupError(f"{storage.area_url('quarantine')}/{relative} est introuvable")
    objects.write_text(stored.parent / report_name(stored.name), entry.report)
    target = storage.area("inbox") / partner.inbox / entry.original_name
    objects.transfer(stored, target)
    with warehouse.engine().begin() as connection:
        ledger.delete(connection, entry.partner, entry.sha256)
    return f"{storage.area_url('inbox')}/{partner.inbox}/{entry.original_name}"


def _put_back_after_failures_from_store(partner_id: str, sha256_prefix: str,
                                        paths: DataPaths) -> str:
    """A file the safety net quarantined, as an object: found by the start of its fingerprint
    in its name, its failure count reset, copied back into the inbox area."""
    from pipeline.storage import objects

    partner = load_territory().partner(partner_id)
    folder = storage.area("quarantine") / partner_id
    names = {item.name for item in objects.list_objects(folder) if "/" not in item.name}
    found = [name for name in sorted(names) if name.startswith(sha256_prefix[:16])
             and "__" in name and not name.endswith(REPORT_SUFFIX)]
    if len(found) != 1:
        raise LookupError(f"{len(found)} fichiers refusés ou mis en quarantaine correspondent à "
                          f"{sha256_prefix!r} pour {partner_id}")
    stored = folder / found[0]
    original = found[0].split("__", 1)[1]
    digest = hashlib.sha256()
    with stored.open("rb") as remote:
        for block in iter(lambda: remote.read(objects.BLOCK), b""):
            digest.update(block)
    safety_net.forget(paths, partner, digest.hexdigest())
    objects.transfer(stored, storage.area("inbox") / partner.inbox / original)
    return f"{storage.area_url('inbox')}/{partner.inbox}/{original}"
