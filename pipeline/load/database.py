"""The warehouse's database connection: SQLite by default (a file under the data folder, WAL
mode, one writer at a time through ``BEGIN IMMEDIATE``), any SQLAlchemy URL (PostgreSQL)
through ``INCLUSION_WAREHOUSE_URL``. Used by the warehouse and by its migrations."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, create_engine, event


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


def new_engine(url: str) -> Engine:
    """An engine on the warehouse at ``url``, its schema left as it is (migrations)."""
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 60})
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
    else:
        engine = create_engine(url, pool_pre_ping=True)
    return engine
