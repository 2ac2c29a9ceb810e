"""A steward's second look at a refused file (``python -m pipeline.cli``), after the territory
configuration or a rule changed, or after the bug that made the safety net quarantine it was
fixed."""

from __future__ import annotations

import shutil
from pathlib import Path

from pipeline.config import DataPaths, data_paths, load_territory
from pipeline.files import sha256_of, write_atomically
from pipeline.ingest import safety_net
from pipeline.load import ledger, warehouse
from pipeline.report.reports import report_path


def reprocess_quarantined(partner_id: str, sha256_prefix: str,
                          paths: DataPaths | None = None) -> Path:
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
    stored = paths.root / entry.stored_path
    write_atomically(report_path(stored.parent, stored.name), entry.report)
    target = paths.inbox / partner_id / entry.original_name
    shutil.copy2(stored, target)
    with warehouse.engine().begin() as connection:
        ledger.delete(connection, entry.partner, entry.sha256)
    return target


def _reprocess_after_failures(partner_id: str, sha256_prefix: str, paths: DataPaths) -> Path:
    """A file the safety net quarantined after repeated internal failures: it has no ledger
    entry (nothing was committed), only its quarantined copy, named after its fingerprint.
    Its failure count is reset, so the next scan gives it fresh attempts."""
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
