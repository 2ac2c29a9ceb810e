"""The warehouse: accepted rows of every dataset, with their history.

One table per dataset, built from its contract. Rows are never deleted: a file that sends a row
with a key already present (``<partner, key>``) supersedes the previous version, which stays with
``current = 0`` and the file that replaced it. Every row knows the file it came from.

A withdrawal file (``pipeline.ingest.withdrawals``) makes a partner's current rows with the keys it
lists not current (``superseded_by`` = the withdrawal file), and is remembered in ``retraits``:
of all the versions and withdrawals of a key, the most recently received one decides, whatever
order the files are processed in.

SQLite by default (a file under the data folder, WAL mode, one writer at a time through
``BEGIN IMMEDIATE``); any SQLAlchemy URL (PostgreSQL) through ``INCLUSION_WAREHOUSE_URL``
(``pipeline.load.database``). The schema's versions are Alembic migrations
(``pipeline.load.migrate``): an empty database gets this schema at first use, a warehouse at
another version is refused until ``make migrate``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from functools import lru_cache

import pandas as pd
from sqlalchemy import (Column, Engine, Float, Index, Integer, MetaData, String, Table, Text, func,
                        select, text, update)

from pipeline.config import warehouse_url
from pipeline.contracts.datasets import CONTRACTS
from pipeline.contracts.model import Contract
from pipeline.load import migrate
from pipeline.load.database import new_engine

KEY_CHUNK = 500

_SQL_TYPES = {"integer": Float, "decimal": Float, "text": Text, "insee": String(5),
              "date": String(10), "time": String(5), "choice": String(64), "multichoice": Text,
              "phone": String(32), "email": Text, "url": Text}


def schema(contracts: Mapping[str, Contract]) -> MetaData:
    """The warehouse's tables for these contracts: the ledger, the withdrawals and one table
    per dataset. Also the target of the migrations (``pipeline.load.migrate``): a contract
    change needs a new migration, which ``make migration`` writes from this."""
    tables = MetaData()
    Table(
        "ledger", tables,
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
    # Every key a withdrawal file listed, with the version it made not current (None when the
    # partner had no current row with that key).
    Table(
        "retraits", tables,
        Column("partner", String(64), primary_key=True),
        Column("dataset", String(32), primary_key=True),
        Column("cle", Text, primary_key=True),
        Column("sha256", String(64), primary_key=True),
        Column("received_at", String(32), nullable=False),
        Column("withdrawn_sha256", String(64)),
    )
    for contract in contracts.values():
        _dataset_table(tables, contract)
    return tables


def _dataset_table(tables: MetaData, contract: Contract) -> Table:
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
    table = Table(contract.dataset, tables, *columns)
    # Cross-file checks look rows up by key across partners (a pass redeemed elsewhere, the
    # pickup a sorting refers to, a venue by id or name).
    Index(f"ix_{contract.dataset}_cle", table.c[contract.key], table.c.current)
    if contract.dataset == "lieux":
        Index("ix_lieux_nom", table.c.nom, table.c.current)
    return table


metadata = schema(CONTRACTS)
ledger = metadata.tables["ledger"]
withdrawals = metadata.tables["retraits"]
DATASET_TABLES: dict[str, Table] = {name: metadata.tables[name] for name in CONTRACTS}


@lru_cache(maxsize=4)
def _engine_for(url: str) -> Engine:
    """The warehouse's engine, its schema checked once per process: an empty database gets
    the current schema (stamped with the latest migration); a warehouse at another version
    stops here with a French message (``migrate.WarehouseVersionError``: make migrate)."""
    engine = new_engine(url)
    try:
        migrate.prepare(engine, metadata)
    except BaseException:
        engine.dispose()
        raise
    return engine


def engine() -> Engine:
    return _engine_for(warehouse_url())


def _lock(connection, dataset: str, partner: str) -> None:
    if connection.dialect.name == "postgresql":
        # SQLite serialises writers with BEGIN IMMEDIATE; on PostgreSQL two files of the same
        # partner and dataset are serialised by a transaction-scoped advisory lock.
        connection.execute(text("SELECT pg_advisory_xact_lock(hashtext(:name))"),
                           {"name": f"{dataset}/{partner}"})


def _later_withdrawals(connection, dataset: str, partner: str, keys: list[str],
                       mine: tuple[str, str]) -> dict[str, str]:
    """key -> fingerprint of a withdrawal received after ``mine`` (a file that arrives late
    must not bring back a row withdrawn since)."""
    w = withdrawals.c
    later: dict[str, tuple[str, str]] = {}
    for start in range(0, len(keys), KEY_CHUNK):
        rows = connection.execute(
            select(w.cle, w.received_at, w.sha256)
            .where(w.partner == partner, w.dataset == dataset,
                   w.cle.in_(keys[start:start + KEY_CHUNK]))).fetchall()
        for key, when, sha in rows:
            if (when, sha) > mine and (when, sha) > later.get(key, ("", "")):
                later[key] = (when, sha)
    return {key: sha for key, (_when, sha) in later.items()}


def _has_withdrawals(connection, dataset: str, partner: str) -> bool:
    w = withdrawals.c
    return connection.execute(select(w.partner).where(w.partner == partner, w.dataset == dataset)
                              .limit(1)).first() is not None


def _mark(dialect) -> str:
    """The driver's positional placeholder (sqlite3: ``?``; psycopg2: ``%s``)."""
    return "?" if dialect.paramstyle == "qmark" else "%s"


def _current_versions(connection, table: Table, key: str, partner: str,
                      keys: list[str]) -> list[tuple]:
    """(key, received_at, fingerprint) of the partner's current rows with these keys, through
    the driver: SQLAlchemy compiles an expanding IN on every call, which cost more than the
    index lookup itself (a file of 100,000 rows makes 200 calls); the driver keeps one
    prepared statement per chunk size."""
    if not keys:
        return []
    quote, mark = connection.dialect.identifier_preparer.quote, _mark(connection.dialect)
    sql = (f"SELECT {quote(key)}, source_received_at, source_sha256 FROM {quote(table.name)} "
           f"WHERE partner = {mark} AND {quote('current')} = 1 "
           f"AND {quote(key)} IN ({', '.join([mark] * len(keys))})")
    return connection.exec_driver_sql(sql, (partner, *keys)).fetchall()


def _retire_older(connection, table: Table, key_column, partner: str, keys: list[str],
                  mine: tuple[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """The partner's current rows with these keys: those received before ``mine`` (received
    time, fingerprint) stop being current, superseded by ``mine``; those received after it
    stay. Returns key -> fingerprint of each, (older, later)."""
    current = _current_versions(connection, table, key_column.name, partner, keys)
    older = {key: sha for key, when, sha in current if (when, sha) < mine}
    later = {key: sha for key, when, sha in current if (when, sha) > mine}
    if older:
        connection.execute(
            update(table)
            .where(table.c.partner == partner, table.c.current == 1,
                   key_column.in_(list(older)))
            .values(current=0, superseded_by=mine[1]))
    return older, later


def supersede_and_insert(connection, contract: Contract, partner: str, sha256: str,
                         received_at: str, frame: pd.DataFrame,
                         partner_had_rows: bool | None = None) -> int:
    """Within the caller's transaction, insert a file's rows and decide, key by key, which
    version is current: the one from the most recently received file (ties broken by
    fingerprint), unless a withdrawal of that key was received after it. So the same files
    give the same warehouse whatever order they are processed in, and an older file arriving
    late never overwrites a correction nor brings back a withdrawn row. Returns rows inserted.
    ``partner_had_rows``: whether the partner had rows before this file, when the caller loads
    a file in several calls (its own earlier chunks must not cost a key lookup per row)."""
    table = DATASET_TABLES[contract.dataset]
    _lock(connection, contract.dataset, partner)
    key_column = table.c[contract.key]
    mine = (received_at, sha256)
    keys = frame[contract.key].astype(str).tolist()
    newer: dict[str, str] = {}  # key -> fingerprint of the later file that keeps it
    has_rows = (partner_rows(connection, contract, partner) if partner_had_rows is None
                else partner_had_rows)
    for start in range(0, len(keys) if has_rows else 0, KEY_CHUNK):
        _older, later = _retire_older(connection, table, key_column, partner,
                                      keys[start:start + KEY_CHUNK], mine)
        newer.update(later)
    if _has_withdrawals(connection, contract.dataset, partner):
        # (A key whose current row was older than this file has no withdrawal after it
        # either: that withdrawal would have made the row not current.)
        unseen = sorted(set(keys) - set(newer))
        newer.update(_later_withdrawals(connection, contract.dataset, partner, unseen, mine))
    current = [0 if key in newer else 1 for key in keys] if newer else [1] * len(keys)
    rows = _rows(table, contract, frame, keys, partner=partner, source_sha256=sha256,
                 source_received_at=received_at, current=current,
                 superseded_by=[newer.get(key) for key in keys] if newer else None)
    if rows:
        _bulk_insert(connection, table, rows)
    return len(rows)


def _rows(table: Table, contract: Contract, frame: pd.DataFrame, keys: list[str],
          **given: object) -> list[tuple]:
    """The frame's rows as tuples in the table's column order, built column by column (NaN ->
    None once per column): a dict per row and SQLAlchemy's per-row parameter processing cost
    several times the database's own insert. ``given``: a constant (str, None) or one value
    per row (list) for the bookkeeping columns."""
    n = len(keys)
    columns = []
    for column in table.columns:
        name = column.name
        if name == contract.key:
            columns.append(keys)
        elif name == "source_line":
            columns.append(frame["_ligne"].astype("int64").tolist())
        elif name in given:
            value = given[name]
            columns.append(value if isinstance(value, list) else [value] * n)
        else:
            columns.append(frame[name].to_numpy(dtype=object, na_value=None).tolist())
    return list(zip(*columns))


@lru_cache(maxsize=32)
def _insert_sql(table: Table, dialect) -> str:
    """One prepared INSERT of every column, positional, in the driver's own placeholder."""
    quote, mark = dialect.identifier_preparer.quote, _mark(dialect)
    return (f"INSERT INTO {quote(table.name)} ({', '.join(quote(c.name) for c in table.columns)})"
            f" VALUES ({', '.join([mark] * len(table.columns))})")


def _copy_text(value: object) -> str:
    """A value in PostgreSQL COPY's text format (``\\N`` is NULL)."""
    if value is None:
        return "\\N"
    if isinstance(value, float):
        return repr(value)  # shortest exact form: the same double comes back
    text_value = str(value)
    if any(c in text_value for c in "\\\t\n\r"):
        text_value = (text_value.replace("\\", "\\\\").replace("\t", "\\t")
                      .replace("\n", "\\n").replace("\r", "\\r"))
    return text_value


def _bulk_insert(connection, table: Table, rows: list[tuple]) -> None:
    """Within the caller's transaction: PostgreSQL's COPY through psycopg2 (one stream, no
    per-row statement); elsewhere one prepared INSERT through the driver's executemany."""
    if connection.dialect.name == "postgresql" and connection.dialect.driver == "psycopg2":
        import io

        buffer = io.StringIO()
        buffer.writelines("\t".join(map(_copy_text, row)) + "\n" for row in rows)
        buffer.seek(0)
        quote = connection.dialect.identifier_preparer.quote
        columns = ", ".join(quote(c.name) for c in table.columns)
        cursor = connection.connection.driver_connection.cursor()
        try:
            cursor.copy_expert(f"COPY {quote(table.name)} ({columns}) FROM STDIN", buffer)
        finally:
            cursor.close()
        return
    # exec_driver_sql with a list of tuples goes straight to cursor.executemany, in the
    # connection's (the caller's) transaction.
    connection.exec_driver_sql(_insert_sql(table, connection.dialect), rows)


def withdraw(connection, dataset: str, partner: str, sha256: str, received_at: str,
             keys: list[str]) -> dict[str, tuple[str, str | None]]:
    """Within the caller's transaction, withdraw the partner's current rows with these keys
    (``current = 0``, ``superseded_by`` = the withdrawal file; nothing deleted) and remember
    every key in ``retraits``. Returns, per key, what happened and the fingerprint involved:
    ``("retire", version withdrawn)``, ``("plus_recent", current version received after the
    withdrawal, left in place)``, ``("deja_retire", the earlier withdrawal)`` or
    ``("inconnu", None)`` when the partner never sent that key."""
    contract = CONTRACTS[dataset]
    table = DATASET_TABLES[dataset]
    key_column = table.c[contract.key]
    _lock(connection, dataset, partner)
    mine = (received_at, sha256)
    outcome: dict[str, tuple[str, str | None]] = {}
    wanted = sorted(set(keys))
    for start in range(0, len(wanted), KEY_CHUNK):
        chunk = wanted[start:start + KEY_CHUNK]
        older, later = _retire_older(connection, table, key_column, partner, chunk, mine)
        outcome.update({key: ("retire", sha) for key, sha in older.items()})
        outcome.update({key: ("plus_recent", sha) for key, sha in later.items()})
        rest = [key for key in chunk if key not in outcome]
        seen = {row[0] for row in connection.execute(
            select(key_column).distinct().where(table.c.partner == partner,
                                                key_column.in_(rest)))} if rest else set()
        earlier = _earlier_withdrawals(connection, dataset, partner, sorted(seen))
        for key in rest:
            outcome[key] = ("deja_retire", earlier.get(key)) if key in seen else ("inconnu", None)
    records = [{"partner": partner, "dataset": dataset, "cle": key, "sha256": sha256,
                "received_at": received_at,
                "withdrawn_sha256": sha if state == "retire" else None}
               for key, (state, sha) in outcome.items()]
    if records:
        connection.execute(withdrawals.insert(), records)
    return outcome


def _earlier_withdrawals(connection, dataset: str, partner: str, keys: list[str]) -> dict[str, str]:
    """key -> fingerprint of the latest withdrawal already recorded for it."""
    w = withdrawals.c
    if not keys:
        return {}
    rows = connection.execute(
        select(w.cle, w.received_at, w.sha256)
        .where(w.partner == partner, w.dataset == dataset, w.cle.in_(keys))).fetchall()
    latest: dict[str, tuple[str, str]] = {}
    for key, when, sha in rows:
        latest[key] = max(latest.get(key, ("", "")), (when, sha))
    return {key: sha for key, (_when, sha) in latest.items()}


def partner_rows(connection, contract: Contract, partner: str) -> bool:
    """Whether the warehouse holds any row of this partner in this dataset."""
    table = DATASET_TABLES[contract.dataset]
    return connection.execute(
        select(table.c.partner).where(table.c.partner == partner).limit(1)).first() is not None


def _frame(statement) -> pd.DataFrame:
    """Rows as a DataFrame through the driver's own cursor: SQLAlchemy's Row objects cost
    several times more to turn into columns (2,000,000 passes: seconds, not tens)."""
    with engine().connect() as connection:
        compiled = statement.compile(dialect=connection.dialect,
                                     compile_kwargs={"render_postcompile": True})
        cursor = connection.connection.driver_connection.cursor()
        try:
            params = compiled.params
            if connection.dialect.paramstyle in ("qmark", "numeric"):
                params = tuple(params[name] for name in compiled.positiontup or ())
            cursor.execute(str(compiled), params)
            names = [column[0] for column in cursor.description]
            return pd.DataFrame(dict(zip(names, _columns(cursor, len(names)))), columns=names)
        finally:
            cursor.close()


def _columns(cursor, width: int, chunk: int = 100_000) -> list[list]:
    """The cursor's rows as one list per column, read ``chunk`` rows at a time, each column's
    equal values held as one object: the driver makes a new string for every cell, and
    2,000,000 passes fetched at once were some 900 MB of tuples and strings before pandas
    made a frame of them."""
    columns: list[list] = [[] for _ in range(width)]
    seen: list[dict] = [{} for _ in range(width)]
    while rows := cursor.fetchmany(chunk):
        for values, column, known in zip(zip(*rows), columns, seen):
            column.extend([known.setdefault(v, v) for v in values])
    return columns


_snapshot: dict[str, pd.DataFrame] | None = None


@contextmanager
def snapshot() -> Iterator[None]:
    """Within the block, each table's current rows are read once (one build reads every table
    for the site data and again for the results)."""
    global _snapshot
    _snapshot = {}
    try:
        yield
    finally:
        _snapshot = None


def current_rows(dataset: str, columns: tuple[str, ...] | None = None) -> pd.DataFrame:
    """Current (not superseded) rows of a dataset, as a DataFrame; only ``columns`` if given
    (2,000,000 passes with every column take a gigabyte)."""
    key = f"{dataset}:{','.join(columns or ())}"
    if _snapshot is not None and key in _snapshot:
        return _snapshot[key]
    table = DATASET_TABLES[dataset]
    selected = [table.c[c] for c in columns] if columns else [table]
    frame = _frame(select(*selected).where(table.c.current == 1))
    if _snapshot is not None:
        _snapshot[key] = frame
    return frame


def distinct_current(dataset: str, column: str) -> set:
    """The distinct non-empty values of one column among current rows."""
    table = DATASET_TABLES[dataset]
    frame = _frame(select(table.c[column]).distinct()
                   .where(table.c.current == 1, table.c[column].is_not(None)))
    return set(frame[column])


def current_counts(dataset: str, columns: tuple[str, ...], year_of: str | None = None
                   ) -> pd.DataFrame:
    """The number of current rows (``lignes``) per source file (``partner``, ``source_sha256``)
    and value of ``columns`` (and calendar year of the ``year_of`` date column, ``annee``),
    counted by the database: what each received file still gives, without reading the rows."""
    table = DATASET_TABLES[dataset]
    keys = [table.c.partner, table.c.source_sha256] + [table.c[c] for c in columns]
    if year_of:
        keys.append(func.substr(table.c[year_of], 1, 4).label("annee"))
    frame = _frame(select(*keys, func.count().label("lignes"))
                   .where(table.c.current == 1).group_by(*keys))
    if year_of:
        frame["annee"] = pd.to_numeric(frame["annee"], errors="coerce")
    return frame


def current_matching(dataset: str, column: str, values: Iterable[str],
                     columns: list[str], filled: str | None = None) -> pd.DataFrame:
    """``columns`` of the current rows whose ``column`` is one of ``values`` (and whose
    ``filled`` column is not empty, if given), looked up through an index by chunks: a file is
    checked against the rows it names, not the whole table."""
    table = DATASET_TABLES[dataset]
    wanted = sorted({str(v) for v in values})
    extra = [table.c[filled].is_not(None)] if filled else []
    frames = [_frame(select(*[table.c[c] for c in columns])
                     .where(table.c.current == 1, table.c[column].in_(wanted[i:i + KEY_CHUNK]),
                            *extra))
              for i in range(0, len(wanted), KEY_CHUNK)]
    frames = [f for f in frames if not f.empty]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)


def all_rows(dataset: str) -> pd.DataFrame:
    return _frame(select(DATASET_TABLES[dataset]))


def rows_superseded_by(shas: Iterable[str]) -> dict[str, int]:
    """Dataset -> rows that files with these fingerprints superseded (corrections), for a
    publication's summary of what changed."""
    shas = sorted(set(shas))
    counts: dict[str, int] = {}
    if not shas:
        return counts
    with engine().connect() as connection:
        for dataset, table in DATASET_TABLES.items():
            found = sum(connection.execute(
                select(func.count()).select_from(table)
                .where(table.c.superseded_by.in_(shas[start:start + KEY_CHUNK]))).scalar_one()
                for start in range(0, len(shas), KEY_CHUNK))
            if found:
                counts[dataset] = found
    return counts
