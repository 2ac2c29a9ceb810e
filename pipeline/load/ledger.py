"""The ledger: every file ever received, once, with its fingerprint and outcome.

A file is identified by ``(partner, sha256)``: dropping the same bytes again is recognised and
changes nothing. The ledger row and the file's warehouse rows are written in one transaction,
so a crash leaves either both or neither.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, make_dataclass

from sqlalchemy import select

from pipeline.load import warehouse

STATUS_ACCEPTED = "accepte"
STATUS_ACCEPTED_WITH_WARNINGS = "accepte_avec_avertissements"
STATUS_REJECTED = "rejete"
# A withdrawal file (``pipeline.ingest.withdrawals``) is recorded under the dataset it withdraws
# from, so that whatever is keyed on a dataset's files (the results memo) sees it; its status says
# it carried identifiers to withdraw, not rows. ``rows_loaded`` is then the rows withdrawn.
STATUS_WITHDRAWN = "retrait_enregistre"
STATUS_WITHDRAWN_WITH_WARNINGS = "retrait_avec_avertissements"
STATUS_LABELS = {
    STATUS_ACCEPTED: "accepté",
    STATUS_ACCEPTED_WITH_WARNINGS: "accepté avec avertissements",
    STATUS_REJECTED: "refusé",
    STATUS_WITHDRAWN: "retrait enregistré",
    STATUS_WITHDRAWN_WITH_WARNINGS: "retrait enregistré avec avertissements",
}


# The fields of a ledger entry are the columns of the warehouse's ``ledger`` table, named and
# typed once there.
_LedgerRow = make_dataclass("_LedgerRow", [(column.name, column.type.python_type)
                                           for column in warehouse.ledger.columns])


@dataclass
class LedgerEntry(_LedgerRow):
    """One received file; its fields are the columns of ``warehouse.ledger``."""

    @property
    def accepted(self) -> bool:
        return self.status != STATUS_REJECTED


def find(partner: str, sha256: str) -> LedgerEntry | None:
    table = warehouse.ledger
    with warehouse.engine().connect() as connection:
        row = connection.execute(
            select(table).where(table.c.partner == partner, table.c.sha256 == sha256)).first()
    return LedgerEntry(**row._mapping) if row else None


def files_named(partner_shas: set[tuple[str, str]], connection=None
                ) -> dict[tuple[str, str], tuple[str, str]]:
    """``(partner, sha256)`` -> ``(original name, received at)`` of those files, for reports
    that name the earlier file a problem comes from (within ``connection``'s transaction when
    given)."""
    if connection is None:
        with warehouse.engine().connect() as own:
            return files_named(partner_shas, own)
    table = warehouse.ledger
    shas = sorted({sha for _partner, sha in partner_shas})
    found: dict[tuple[str, str], tuple[str, str]] = {}
    for start in range(0, len(shas), warehouse.KEY_CHUNK):
        rows = connection.execute(
            select(table.c.partner, table.c.sha256, table.c.original_name, table.c.received_at)
            .where(table.c.sha256.in_(shas[start:start + warehouse.KEY_CHUNK])))
        for partner, sha, name, received in rows:
            if (partner, sha) in partner_shas:
                found[(partner, sha)] = (name, received)
    return found


def insert(connection, entry: LedgerEntry) -> None:
    connection.execute(warehouse.ledger.insert(), [asdict(entry)])


def delete(connection, partner: str, sha256: str) -> None:
    table = warehouse.ledger
    connection.execute(table.delete().where(table.c.partner == partner,
                                            table.c.sha256 == sha256))


def entries() -> list[LedgerEntry]:
    table = warehouse.ledger
    with warehouse.engine().connect() as connection:
        rows = connection.execute(
            select(table).order_by(table.c.received_at, table.c.partner, table.c.sha256))
        return [LedgerEntry(**row._mapping) for row in rows]


def as_json_lines(items: list[LedgerEntry]) -> str:
    return "\n".join(json.dumps({k: v for k, v in asdict(e).items() if k != "report"},
                                ensure_ascii=False) for e in items)
