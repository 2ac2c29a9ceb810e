"""The warehouse: accepted rows of every dataset, with their history.

One table per dataset, built from its contract. Rows are never deleted: a file that sends a row
with a key already present (``<partner, key>``) supersedes the previous version, which stays with
``current = 0`` and the file that replaced it. Every row knows the file it came from.

SQLite by default (a file under the data folder, WAL mode, one writer at a time through
``BEGIN IMMEDIATE``); any SQLAlchemy URL (PostgreSQL) through ``INCLUSION_WAREHOUSE_URL``.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import pandas as pd
from sqlalchemy import (Column, Engine, Float, Integer, MetaData, String, Table, Text,
                        create_engine, event, select, text, update)

from pipeline.config import warehouse_url
from pipeline.contracts import CONTRACTS, Contract

metadata = MetaData()
KEY_CHUNK = 500

ledger = Table(
    "ledger", metadata,
    Column("partner", String(64), primary_key=True),
    Column("sha256", String(64), primary_key=True),
    Column("dataset", String(32), nullable=False),
    Column("original_name", Text, nullable=False),
    Column("received_at", String(32), nullable=False),
    Column("status", String(32), nullable=False),
    Column("rows_total", Integer, nullable=False),
    Column("rows_loaded", Integer, nullable=False),
    Column("errors", Integer, nullable=False),
    Column("warnings", Integer, nullable=False),
    Column("stored_path", Text, nullable=False),
    Column("report", Text, nullable=False),
)

_SQL_TYPES = {"integer": Float, "decimal": Float, "text": Text, "insee": String(5),
              "date": String(10), "time": String(5), "choice": String(64), "multichoice": Text,
              "phone": String(32), "email": Text, "url": Text}


def _dataset_table(contract: Contract) -> Table:
    columns = [
        Column("partner", String(64), primary_key=True),
        Column(contract.key, Text, primary_key=True),
        Column("source_sha256", String(64), primary_key=True),
        Column("source_received_at", String(32), nullable=False),
        Column("source_line", Integer, nullable=False),
        Column("current", Integer, nullable=False),
        Column("superseded_by", String(64)),
    ]
    columns += [Column(c.name, _SQL_TYPES[c.type]) for c in contract.columns if c.name != contract.key]
    return Table(contract.dataset, metadata, *columns)


DATASET_TABLES: dict[str, Table] = {name: _dataset_table(c) for name, c in CONTRACTS.items()}


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # pysqlite's own transaction handling would start deferred transactions that deadlock
    # when two processes upgrade to write; we issue BEGIN IMMEDIATE ourselves instead.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=60000")
    cursor.close()


def _sqlite_begin(connection) -> None:
    connection.exec_driver_sql("BEGIN IMMEDIATE")


@lru_cache(maxsize=4)
def _engine_for(url: str) -> Engine:
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 60})
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
    else:
        engine = create_engine(url, pool_pre_ping=True)
    metadata.create_all(engine)
    return engine


def engine() -> Engine:
    return _engine_for(warehouse_url())


def supersede_and_insert(connection, contract: Contract, partner: str, sha256: str,
                         received_at: str, frame: pd.DataFrame) -> int:
    """Within the caller's transaction, insert a file's rows and decide, key by key, which
    version is current: the one from the most recently received file (ties broken by
    fingerprint). So the same files give the same warehouse whatever order they are processed
    in, and an older file arriving late never overwrites a correction. Returns rows inserted."""
    table = DATASET_TABLES[contract.dataset]
    if connection.dialect.name == "postgresql":
        # SQLite serialises writers with BEGIN IMMEDIATE; on PostgreSQL two files of the same
        # partner and dataset are serialised by a transaction-scoped advisory lock.
        connection.execute(text("SELECT pg_advisory_xact_lock(hashtext(:name))"),
                           {"name": f"{contract.dataset}/{partner}"})
    key_column = table.c[contract.key]
    mine = (received_at, sha256)
    keys = frame[contract.key].astype(str).tolist()
    newer: dict[str, str] = {}  # key -> fingerprint of the later file that keeps it
    has_rows = connection.execute(
        select(table.c.partner).where(table.c.partner == partner).limit(1)).first()
    for start in range(0, len(keys) if has_rows else 0, KEY_CHUNK):
        chunk = keys[start:start + KEY_CHUNK]
        current = connection.execute(
            select(key_column, table.c.source_received_at, table.c.source_sha256)
            .where(table.c.partner == partner, table.c.current == 1, key_column.in_(chunk))
        ).fetchall()
        older = [key for key, when, sha in current if (when, sha) < mine]
        newer.update({key: sha for key, when, sha in current if (when, sha) > mine})
        if older:
            connection.execute(
                update(table)
                .where(table.c.partner == partner, table.c.current == 1, key_column.in_(older))
                .values(current=0, superseded_by=sha256))
    names = contract.column_names
    # Column-wise, NaN -> None once, then one dict per row: much faster than to_dict(records).
    columns = [frame[name].astype(object).where(frame[name].notna(), None).tolist()
               for name in names]
    records = []
    for key, line, values in zip(keys, frame["_ligne"].tolist(), zip(*columns)):
        record = dict(zip(names, values))
        record[contract.key] = key
        record.update(partner=partner, source_sha256=sha256, source_received_at=received_at,
                      source_line=int(line), current=0 if key in newer else 1,
                      superseded_by=newer.get(key))
        records.append(record)
    if records:
        connection.execute(table.insert(), records)
    return len(records)


def current_rows(dataset: str) -> pd.DataFrame:
    """Current (not superseded) rows of a dataset, as a DataFrame."""
    table = DATASET_TABLES[dataset]
    with engine().connect() as connection:
        result = connection.execute(select(table).where(table.c.current == 1))
        return pd.DataFrame(result.fetchall(), columns=list(result.keys()))


def all_rows(dataset: str) -> pd.DataFrame:
    table = DATASET_TABLES[dataset]
    with engine().connect() as connection:
        result = connection.execute(select(table))
        return pd.DataFrame(result.fetchall(), columns=list(result.keys()))
