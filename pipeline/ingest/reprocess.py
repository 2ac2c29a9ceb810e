"""A steward's second look at a refused file (``python -m pipeline.cli``), after the territory
configuration or a rule changed."""

from __future__ import annotations

import shutil
from pathlib import Path

from pipeline.config import DataPaths, data_paths
from pipeline.files import write_atomically
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
